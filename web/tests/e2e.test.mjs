// End-to-end tests of the Personeelsbank web app in headless Chromium.
// Run by infra/browser-tests.sh, which starts the server with the demo region
// and sets PB_BASE_URL, PB_MAIL_DIR, PB_ARTIFACTS and CHROMIUM_PATH.
//
// Every wait has a timeout; nothing asserts on wall-clock durations.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const BASE = process.env.PB_BASE_URL;
const MAIL_DIR = process.env.PB_MAIL_DIR;
const ARTIFACTS = process.env.PB_ARTIFACTS || path.resolve("artifacts");
const DEMO_PASSWORD = "demo-personeelsbank-2026";
const NEW_PASSWORD = "zeven zeilboten op het wad";
const WAIT = 20_000;
const RUN = Date.now().toString(36);

assert.ok(BASE, "PB_BASE_URL must be set (run infra/browser-tests.sh)");
fs.mkdirSync(ARTIFACTS, { recursive: true });

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
    timeout: 60_000,
  });
});
after(async () => { if (browser) await browser.close(); });

async function newPage(opts) {
  const context = await browser.newContext({ baseURL: BASE, locale: "nl-NL", timezoneId: "Europe/Amsterdam", ...(opts || {}) });
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.problems = problems;
  return page;
}
async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, name + ".png"), fullPage: true });
}

// --- the JSON API, for setting the scene -----------------------------------------

async function api(token, method, urlPath, body, headers) {
  const res = await fetch(BASE + "/api/v1" + urlPath, {
    method,
    headers: { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...(token ? { Authorization: "Bearer " + token } : {}), ...(headers || {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = text; }
  return { status: res.status, json };
}
async function login(email, password) {
  const r = await api(null, "POST", "/auth/login", { email, password: password || DEMO_PASSWORD });
  assert.equal(r.status, 200, `login ${email}: ${JSON.stringify(r.json)}`);
  return r.json.access_token;
}
async function eventually(what, fn, ms) {
  const until = Date.now() + (ms || WAIT);
  let last;
  while (Date.now() < until) {
    try { const v = await fn(); if (v) return v; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ": " + last : ""}`);
}

// The secret link in the newest mail to `address`. Bodies may be
// quoted-printable or base64; both are decoded before searching.
function linkInMail(address, kind) {
  if (!MAIL_DIR || !fs.existsSync(MAIL_DIR)) return null;
  const files = fs.readdirSync(MAIL_DIR).filter((f) => f.endsWith(".eml"))
    .map((f) => path.join(MAIL_DIR, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  const re = new RegExp(kind + "\\?token=([A-Za-z0-9_-]{20,})");
  for (const file of files) {
    const raw = fs.readFileSync(file, "utf8");
    if (!raw.toLowerCase().includes(address.toLowerCase())) continue;
    const qp = raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, x) => String.fromCharCode(parseInt(x, 16)));
    const b64 = (raw.match(/(?:^[A-Za-z0-9+/=]{16,}\r?\n)+/gm) || []).map((block) => Buffer.from(block.replace(/\s+/g, ""), "base64").toString("utf8"));
    for (const text of [qp, ...b64]) {
      const m = text.match(re);
      if (m) return m[1];
    }
  }
  return null;
}

// Local Amsterdam date and time parts of a Date.
function amsterdam(d) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Amsterdam", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .formatToParts(d).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

async function signIn(page, email, password) {
  await page.goto("/login");
  await page.getByLabel("E-mailadres").fill(email);
  await page.getByLabel("Wachtwoord", { exact: true }).fill(password || DEMO_PASSWORD);
  await page.getByRole("button", { name: "Inloggen" }).click();
  await page.waitForURL((u) => u.pathname.startsWith("/app/"));
}

// --- tests --------------------------------------------------------------------------

test("sign-in errors are shown clearly, in Dutch and in English", async () => {
  const page = await newPage();
  await page.goto("/login");
  await shot(page, "login");
  await page.getByRole("button", { name: "Inloggen" }).click();
  await assert.doesNotReject(page.getByRole("alert").filter({ hasText: "Vul je e-mailadres en wachtwoord in." }).waitFor());

  await page.getByLabel("E-mailadres").fill("praktijk.denhelder@demo.personeelsbank.nl");
  await page.getByLabel("Wachtwoord", { exact: true }).fill("not the password at all");
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/login") && r.request().method() === "POST"),
    page.getByRole("button", { name: "Inloggen" }).click(),
  ]);
  assert.equal(response.status(), 401);
  await page.getByRole("alert").filter({ hasText: "E-mailadres of wachtwoord klopt niet." }).waitFor();
  assert.equal(await page.getByLabel("E-mailadres").inputValue(), "praktijk.denhelder@demo.personeelsbank.nl");
  await shot(page, "login-error");

  // The language switch: English from now on, errors too.
  await page.getByRole("button", { name: "English" }).click();
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await page.getByLabel("E-mail address").fill("nobody@example.org");
  await page.getByLabel("Password", { exact: true }).fill("still not the password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "E-mail address or password is wrong." }).waitFor();
  assert.equal(await page.locator("html").getAttribute("lang"), "en");

  // An invitation link that is no longer valid says so.
  await page.goto("/invitation?token=not-a-real-token");
  await page.getByLabel("Name").fill("Iemand");
  await page.getByLabel("New password (at least 12 characters)").fill("een lange zin als wachtwoord");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("alert").filter({ hasText: "This invitation is no longer valid." }).waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("urgent call: offered live, accepted by one, filled for the practice, withdrawn from the other", async () => {
  // Scene: two doctor's assistants who sign up with the Kop, live in Den
  // Helder and are favourites of De Linde (so accepting books at once).
  const coordinator = await login("coordinator.kop@demo.personeelsbank.nl");
  const kop = (await api(coordinator, "GET", "/me")).json.memberships.find((m) => m.role === "coordinator").organisation_id;
  const pm = await login("praktijk.denhelder@demo.personeelsbank.nl");
  const practiceId = (await api(pm, "GET", "/me")).json.memberships.find((m) => m.role === "practice_manager").practice_id;
  const practice = (await api(pm, "GET", "/practices/" + practiceId)).json;
  const people = [
    { email: `e2e.anna.${RUN}@example.org`, name: "Anna Eerste" },
    { email: `e2e.bram.${RUN}@example.org`, name: "Bram Tweede" },
  ];
  const [anna, bram] = people;
  const kopSlug = (await api(coordinator, "GET", "/organisations/" + kop)).json.slug;
  for (const p of people) {
    const r = await api(null, "POST", "/auth/register", { email: p.email, password: NEW_PASSWORD, name: p.name, organisation: kopSlug });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    p.access = r.json.access_token;
    p.id = (await api(p.access, "GET", "/me")).json.id;
    const profile = await api(p.access, "PUT", "/me/worker-profile", {
      professions: ["assistant"], home_city: "Den Helder", home_latitude: practice.latitude, home_longitude: practice.longitude,
      travel_radius_km: 30, engagement_types: ["freelance"], skills: [], his_experience: [],
    });
    assert.equal(profile.status, 200, JSON.stringify(profile.json));
    const fav = await api(pm, "POST", `/practices/${practiceId}/favourites`, { user_id: p.id });
    assert.ok([200, 201, 204].includes(fav.status), JSON.stringify(fav.json));
  }

  const annaPage = await newPage();
  await signIn(annaPage, anna.email, NEW_PASSWORD);
  assert.equal(new URL(annaPage.url()).pathname, "/app/worker");
  const bramPage = await newPage();
  await signIn(bramPage, bram.email, NEW_PASSWORD);
  assert.equal(new URL(bramPage.url()).pathname, "/app/worker");

  // Both say they are available now, on their page.
  for (const page of [annaPage, bramPage]) {
    await page.getByRole("button", { name: "Ik ben beschikbaar" }).click();
    await page.locator("#flash").filter({ hasText: "Je bent beschikbaar" }).waitFor();
    await page.locator('body[data-live="ready"]').waitFor();
    await page.locator("#offers li.empty").waitFor();
  }

  // The practice posts an urgent call starting within the next two hours.
  const practicePage = await newPage();
  await signIn(practicePage, "praktijk.denhelder@demo.personeelsbank.nl");
  assert.equal(new URL(practicePage.url()).pathname, "/app/practice");
  const start = new Date(Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000);
  const end = new Date(start.getTime() + 3 * 3_600_000);
  const s = amsterdam(start), e = amsterdam(end);
  const form = practicePage.locator("#post-call");
  await form.getByLabel("Beroep").selectOption("assistant");
  await form.getByLabel("Soort dienst").selectOption("day_cover");
  await form.getByLabel("Datum").fill(s.date);
  await form.getByLabel("Van", { exact: true }).fill(s.time);
  await form.getByLabel("Tot", { exact: true }).fill(e.time);
  await form.getByLabel("Tarief per uur (€)").fill("32.50");
  await form.getByLabel("Verband").selectOption("freelance");
  await form.getByLabel(/Spoed/).check();
  await shot(practicePage, "practice-post-call");
  await form.getByRole("button", { name: "Oproep plaatsen" }).click();
  await practicePage.waitForURL("**/app/practice/calls/*");
  const shiftId = practicePage.url().split("/").pop();
  await practicePage.locator('#call-status[data-status="open"]').waitFor();
  // Both candidates appear with why they match.
  for (const p of people) {
    await practicePage.locator("#candidates tr", { hasText: p.name }).filter({ hasText: "vaste kracht" }).waitFor();
  }

  // Without reloading, both workers see the offer appear.
  const annaOffer = annaPage.locator(`li.offer[data-shift="${shiftId}"]`);
  const bramOffer = bramPage.locator(`li.offer[data-shift="${shiftId}"]`);
  await annaOffer.waitFor();
  await bramOffer.waitFor();
  await shot(annaPage, "worker-offer");

  await annaOffer.getByRole("button", { name: "Accepteren" }).click();
  await annaPage.locator("#flash").filter({ hasText: "Geboekt!" }).waitFor();
  await annaPage.locator("#bookings li[data-booking]").first().waitFor();
  await annaOffer.waitFor({ state: "detached" });

  // The practice sees the call filled, live.
  await practicePage.locator('#call-status[data-status="filled"]').waitFor();
  await practicePage.locator("#call-bookings li", { hasText: anna.name }).waitFor();
  await shot(practicePage, "practice-call-filled");

  // The other worker sees the offer withdrawn, with the reason.
  await bramOffer.waitFor({ state: "detached" });
  await bramPage.locator("#flash").filter({ hasText: "al door iemand anders aangenomen" }).waitFor();
  await shot(bramPage, "worker-offer-withdrawn");

  for (const page of [annaPage, bramPage, practicePage]) {
    assert.deepEqual(page.problems, []);
    await page.context().close();
  }
});

test("a form with bad input explains each problem next to its field", async () => {
  const page = await newPage();
  await signIn(page, "praktijk.schagen@demo.personeelsbank.nl");
  const form = page.locator("#post-call");
  await form.getByLabel("Tarief per uur (€)").fill("");
  await form.getByRole("button", { name: "Oproep plaatsen" }).click();
  await form.locator('[data-for="rate_cents"]').filter({ hasText: "Vul dit veld in." }).waitFor();
  assert.equal(await form.getByLabel("Tarief per uur (€)").getAttribute("aria-invalid"), "true");

  // The server's answer: a call that starts in the past.
  await form.getByLabel("Tarief per uur (€)").fill("70");
  await form.getByLabel("Datum").fill("2020-01-06");
  await form.getByRole("button", { name: "Oproep plaatsen" }).click();
  await form.locator('[data-for="starts_at"]').filter({ hasText: "De dienst moet in de toekomst beginnen." }).waitFor();
  await form.getByRole("alert").filter({ hasText: "Controleer de gemarkeerde velden." }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/app/practice");
  await shot(page, "practice-form-errors");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("coordinator, availability and profile pages render, also on a phone", async () => {
  const page = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await signIn(page, "coordinator.kop@demo.personeelsbank.nl");
  assert.equal(new URL(page.url()).pathname, "/app/region");
  await page.locator("#region-stats .stat").first().waitFor();
  await page.locator("#agreements li").first().waitFor();
  // Charts drawn from the region reports, and the Wet DBA list.
  await page.locator("#chart-fill svg rect").first().waitFor({ state: "attached" });
  await page.locator("#chart-ttf svg").waitFor();
  await page.locator("#dba li").first().waitFor();
  // Who is available today: a list of people, or the message that nobody is.
  await page.locator("#available-today").filter({ hasNotText: "Laden" }).waitFor();
  assert.equal(await page.locator("#available-today .error").count(), 0);
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download als CSV" }).click();
  const csv = await download;
  assert.match(csv.suggestedFilename(), /^regio-.*\.csv$/);
  // A sharing agreement: no profession ticked is refused; then recorded and revoked.
  const agreement = page.locator("#agreement");
  await agreement.getByRole("button", { name: "Deelafspraak vastleggen" }).click();
  await agreement.locator('[data-for="professions"]').filter({ hasText: "Vul dit veld in." }).waitFor();
  await agreement.getByLabel("Met partnerregio").selectOption({ label: "Huisartsenorganisatie Zuid- en Midden-Kennemerland" });
  await agreement.getByLabel("POH somatiek").check();
  await agreement.getByRole("button", { name: "Deelafspraak vastleggen" }).click();
  await page.getByRole("status").filter({ hasText: "De deelafspraak is vastgelegd." }).waitFor();
  const shared = page.locator("#agreements li", { hasText: "POH somatiek" });
  await shared.getByRole("button", { name: "Intrekken" }).click();
  await page.getByRole("status").filter({ hasText: "De deelafspraak is ingetrokken." }).waitFor();
  await shared.filter({ hasText: "ingetrokken" }).waitFor();
  await shot(page, "region-phone");
  await page.context().close();

  const worker = await newPage();
  await signIn(worker, "poh.ggz@demo.personeelsbank.nl");
  await worker.goto("/app/worker/availability");
  const weekly = worker.locator("#add-weekly");
  await weekly.getByLabel("Dag van de week").selectOption("3");
  await weekly.getByLabel("Van", { exact: true }).fill("09:00");
  await weekly.getByLabel("Tot", { exact: true }).fill("13:00");
  await weekly.getByRole("button", { name: "Toevoegen" }).click();
  await worker.locator("#availability-list li", { hasText: "woensdag 09:00–13:00" }).waitFor();
  // A new pattern starts today, so next week certainly shows it.
  await worker.getByRole("button", { name: /Volgende week/ }).click();
  await worker.locator("#week .day").nth(2).filter({ hasText: "09:00–13:00" }).waitFor();
  await shot(worker, "worker-availability");
  await worker.goto("/app/profile");
  await worker.locator("#registrations li").first().waitFor();
  await shot(worker, "profile");
  assert.deepEqual(worker.problems, []);
  await worker.context().close();
});

test("hours: the worker submits them (a difference needs a reason), the practice approves", async () => {
  const worker = await newPage();
  await signIn(worker, "locum.gp@demo.personeelsbank.nl");
  await worker.getByRole("link", { name: "Uren" }).click();
  await worker.waitForURL("**/app/worker/hours");
  // Yesterday's shift at De Linde (demo history) waits for its hours.
  const item = worker.locator('#hours li[data-status="not_submitted"]').first();
  await item.waitFor();
  await item.getByLabel("Van", { exact: true }).fill("08:15");
  await item.getByRole("button", { name: "Uren doorgeven" }).click();
  await item.locator('[data-for="reason"]').filter({ hasText: "Geef een reden" }).waitFor();
  await shot(worker, "worker-hours-error");
  await item.getByLabel("Reden (als het afwijkt)").fill("Spreekuur begon later");
  await item.getByRole("button", { name: "Uren doorgeven" }).click();
  await worker.getByRole("status").filter({ hasText: "Je uren zijn doorgegeven." }).waitFor();
  await worker.getByLabel("Status").selectOption("submitted");
  const sent = worker.locator("#hours li", { hasText: "Spreekuur begon later" });
  await sent.waitFor();
  const booking = await sent.getAttribute("data-hours");
  await shot(worker, "worker-hours");
  assert.deepEqual(worker.problems, []);
  await worker.context().close();

  const practice = await newPage();
  await signIn(practice, "praktijk.denhelder@demo.personeelsbank.nl");
  await practice.getByRole("link", { name: "Uren goedkeuren" }).click();
  const mine = practice.locator(`#hours li[data-hours="${booking}"]`);
  await mine.waitFor();
  // Amending needs a note: refused on the form, nothing lost.
  await mine.getByText("Uren aanpassen…").click();
  await mine.getByRole("button", { name: "Aanpassen en goedkeuren" }).click();
  await mine.locator('[data-for="note"]').filter({ hasText: "Geef een toelichting" }).waitFor();
  await shot(practice, "practice-hours");
  await mine.getByRole("button", { name: "Goedkeuren", exact: true }).click();
  await practice.getByRole("status").filter({ hasText: "Uren goedgekeurd." }).waitFor();
  await practice.getByLabel("Status").selectOption("approved");
  await practice.locator(`#hours li[data-hours="${booking}"][data-status="approved"]`).waitFor();
  const download = practice.waitForEvent("download");
  await practice.getByRole("button", { name: "Download als CSV" }).click();
  assert.match((await download).suggestedFilename(), /^uren-.*\.csv$/);
  assert.deepEqual(practice.problems, []);
  await practice.context().close();
});

test("a coordinator arranges a secondment step by step; the person approves it", async () => {
  const page = await newPage();
  await signIn(page, "coordinator.zuid@demo.personeelsbank.nl");
  await page.getByRole("link", { name: "Detacheringen" }).click();
  await page.waitForURL("**/app/secondments");
  const form = page.locator("#arrange");
  // Step 1 refuses to go on without a person.
  await form.getByRole("button", { name: "Volgende" }).first().click();
  await form.locator('[data-for="user_id"]').filter({ hasText: "Vul dit veld in." }).waitFor();
  const personSelect = form.getByLabel("Persoon");
  await personSelect.locator("option", { hasText: "Lotte de Graaf" }).waitFor({ state: "attached" });
  await personSelect.selectOption({ label: await personSelect.locator("option", { hasText: "Lotte de Graaf" }).innerText() });
  await form.getByRole("button", { name: "Volgende" }).first().click();
  const practiceSelect = form.getByLabel("Ontvangende praktijk");
  await practiceSelect.locator("option").nth(2).waitFor({ state: "attached" });
  const options = await practiceSelect.locator("option").allInnerTexts();
  const target = options.find((o) => o.startsWith("Huisartsen Kleverpark"));
  assert.ok(target, "another Haarlem practice: " + options.join(" | "));
  await practiceSelect.selectOption({ label: target });
  await form.getByLabel("Doorbelasting per uur (€)").fill("42,50");
  await form.locator('fieldset[data-step="2"]').getByRole("button", { name: "Volgende" }).click();
  await form.getByRole("checkbox", { name: "maandag" }).check();
  await form.locator('fieldset[data-step="3"]').getByRole("button", { name: "Volgende" }).click();
  await form.locator("#sec-review").filter({ hasText: "Lotte de Graaf" }).waitFor();
  await shot(page, "secondment-review");
  await form.getByRole("button", { name: "Detachering voorstellen" }).click();
  await page.getByRole("status").filter({ hasText: "De detachering is voorgesteld." }).waitFor();
  const proposed = page.locator('#secondments li[data-status="proposed"]', { hasText: "Lotte de Graaf" }).first();
  await proposed.waitFor();
  const id = await proposed.getAttribute("data-secondment");
  await shot(page, "secondments");
  assert.deepEqual(page.problems, []);
  await page.context().close();

  const person = await newPage();
  await signIn(person, "assistent@demo.personeelsbank.nl");
  await person.goto("/app/secondments");
  const mine = person.locator(`#secondments li[data-secondment="${id}"]`);
  await mine.filter({ hasText: "de persoon zelf" }).waitFor();
  await mine.getByRole("button", { name: "Goedkeuren" }).click();
  await person.getByRole("status").filter({ hasText: "Goedgekeurd." }).waitFor();
  await eventually("the person's approval", async () => !(await mine.innerText()).includes("de persoon zelf"));
  assert.deepEqual(person.problems, []);
  await person.context().close();
});

test("a practice offers its own employee's free hours", async () => {
  const page = await newPage();
  await signIn(page, "praktijk.rijksstraatweg@demo.personeelsbank.nl");
  await page.getByRole("link", { name: "Eigen personeel" }).click();
  const lotte = page.locator(".staff li", { hasText: "Lotte de Graaf" });
  await lotte.waitFor();
  await lotte.getByLabel("Datum").fill("");
  await lotte.getByRole("button", { name: "Uren aanbieden" }).click();
  await lotte.locator('[data-for="starts_at"]').filter({ hasText: "Vul dit veld in." }).waitFor();
  const { date } = amsterdam(new Date(Date.now() + 5 * 86_400_000));
  await lotte.getByLabel("Datum").fill(date);
  await lotte.getByLabel("Van", { exact: true }).fill("13:00");
  await lotte.getByLabel("Tot", { exact: true }).fill("17:30");
  await lotte.getByRole("button", { name: "Uren aanbieden" }).click();
  await page.getByRole("status").filter({ hasText: "Vrije uren van Lotte de Graaf aangeboden." }).waitFor();
  await page.locator(".staff li", { hasText: "Lotte de Graaf" }).locator(".windows li", { hasText: "13:00" }).waitFor();
  await shot(page, "practice-staff");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("notification preferences and the calendar feed link", async () => {
  const page = await newPage();
  await signIn(page, "poh.ggz@demo.personeelsbank.nl");
  await page.goto("/app/profile");
  const form = page.locator("#notify-form");
  // The current choices are loaded first (choosing before would be overwritten).
  await page.locator("#rate-note").filter({ hasText: "per uur" }).waitFor();
  await form.getByLabel("Nieuwe oproep die bij je past").selectOption("digest");
  await form.getByLabel("Stille uren: geen e-mail tussen").check();
  await form.getByLabel("Van", { exact: true }).fill("21:00");
  await form.getByLabel("Tot", { exact: true }).fill("21:00");
  await form.getByRole("button", { name: "Opslaan" }).click();
  await form.locator('[data-for="quiet_hours"]').filter({ hasText: "Begin en einde mogen niet gelijk zijn." }).waitFor();
  await form.getByLabel("Tot", { exact: true }).fill("07:30");
  await form.getByRole("button", { name: "Opslaan" }).click();
  await page.getByRole("status").filter({ hasText: "Je meldingen zijn opgeslagen." }).waitFor();
  await page.reload();
  await page.locator("#rate-note").filter({ hasText: "per uur" }).waitFor();
  await eventually("saved preferences", async () => (await page.getByLabel("Nieuwe oproep die bij je past").inputValue()) === "digest");
  assert.equal(await page.getByLabel("Tot", { exact: true }).first().inputValue(), "07:30");

  await page.getByRole("button", { name: "Link maken" }).click();
  const url = page.locator("#feed-url");
  await eventually("the feed URL", async () => (await url.inputValue()).includes("/calendar/"));
  const feed = await fetch(await url.inputValue(), { signal: AbortSignal.timeout(WAIT) });
  assert.equal(feed.status, 200);
  assert.match(feed.headers.get("content-type"), /text\/calendar/);
  assert.match(await feed.text(), /BEGIN:VCALENDAR/);
  await shot(page, "profile-notifications");
  await page.getByRole("button", { name: "Link intrekken" }).click();
  await page.getByRole("status").filter({ hasText: "De agenda-link is ingetrokken." }).waitFor();
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test("password reset by e-mail: the link sets a new password once", async () => {
  const address = "assistent@demo.personeelsbank.nl";
  const page = await newPage();
  await page.goto("/login");
  await page.getByRole("link", { name: "Wachtwoord vergeten?" }).click();
  await page.getByLabel("E-mailadres").fill(address);
  await page.getByRole("button", { name: "Link versturen" }).click();
  await page.getByRole("status").filter({ hasText: "Als dit adres bij een account hoort" }).waitFor();
  const token = await eventually("the reset mail", () => linkInMail(address, "password-reset"), 30_000);

  await page.goto("/password-reset?token=" + token);
  await page.getByLabel("Nieuw wachtwoord (minstens 12 tekens)").fill("kort");
  await page.getByRole("button", { name: "Wachtwoord opslaan" }).click();
  await page.locator('[data-for="password"]').filter({ hasText: "minstens 12 tekens" }).waitFor();
  await page.getByLabel("Nieuw wachtwoord (minstens 12 tekens)").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Wachtwoord opslaan" }).click();
  await page.getByRole("status").filter({ hasText: "Je wachtwoord is gewijzigd" }).waitFor();
  await shot(page, "password-reset-done");

  // The link is spent; the new password works.
  await page.goto("/password-reset?token=" + token);
  await page.getByLabel("Nieuw wachtwoord (minstens 12 tekens)").fill("nog een andere lange zin");
  await page.getByRole("button", { name: "Wachtwoord opslaan" }).click();
  await page.getByRole("alert").filter({ hasText: "Deze link is verlopen of al gebruikt." }).waitFor();
  await signIn(page, address, NEW_PASSWORD);
  assert.equal(new URL(page.url()).pathname, "/app/worker");
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
