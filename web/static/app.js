// Personeelsbank web app script. The server renders every page, its labels
// and forms; this script fills in data from the JSON API (/api/v1), submits
// the forms there, and keeps pages live over the WebSocket.
//
// Sign-in lives in an HttpOnly cookie the script cannot read. For API calls
// it asks POST /web/token (with the page's CSRF token) for a short-lived
// access token, and asks again when the API answers 401.
// Text comes from the server's catalogue (config.messages), so it follows
// the page's language. Data is put on the page with textContent only.
"use strict";

const config = (() => {
  const el = document.getElementById("pb-config");
  try { return el ? JSON.parse(el.textContent) : {}; } catch { return {}; }
})();
const M = config.messages || {};
const csrf = (document.querySelector('meta[name="pb-csrf"]') || {}).content || "";

function t(key, vars) {
  let s = M[key] !== undefined ? M[key] : key;
  for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(String(v));
  return s;
}
const $ = (sel, root) => (root || document).querySelector(sel);
const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

// h("li", {class: "x", dataset: {shift: id}}, "text", child, ...)
function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v === true) e.setAttribute(k, "");
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

function newKey() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// --- talking to the API -------------------------------------------------------

let accessToken = null;
async function fetchToken() {
  const r = await fetch("/web/token", { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" });
  if (r.status === 401) { location.href = "/login"; throw new Error("signed out"); }
  if (!r.ok) throw new Error("token " + r.status);
  accessToken = (await r.json()).access_token;
  return accessToken;
}

async function api(path, opts) {
  const o = opts || {};
  const send = async () => {
    const headers = Object.assign({}, o.headers || {});
    if (config.user_id) headers.Authorization = "Bearer " + (accessToken || (await fetchToken()));
    if (o.body !== undefined) headers["Content-Type"] = "application/json";
    return fetch("/api/v1" + path, { method: o.method || "GET", headers, body: o.body === undefined ? undefined : JSON.stringify(o.body), credentials: "same-origin" });
  };
  let res = await send();
  if (res.status === 401 && config.user_id) { accessToken = null; res = await send(); }
  return res;
}

async function problemOf(res) {
  try { return await res.json(); } catch { return { code: "internal_error", status: res.status }; }
}
function problemText(p) {
  if (p.code && M["err." + p.code] !== undefined) return M["err." + p.code];
  return p.title || t("err.internal_error");
}
function fieldText(e) { return M["err." + e.code] !== undefined ? M["err." + e.code] : e.message; }

function clearErrors(form) {
  const box = $(".form-error", form);
  if (box) { box.hidden = true; box.textContent = ""; }
  for (const slot of $$("[data-for]", form)) slot.textContent = "";
  for (const i of $$("[aria-invalid]", form)) i.removeAttribute("aria-invalid");
}

// Show a problem on a form: field errors next to their fields, the summary on top.
function showProblem(form, p) {
  clearErrors(form);
  const rest = [];
  for (const e of p.errors || []) {
    const slot = $(`[data-for="${e.field}"]`, form);
    if (slot) {
      slot.textContent = fieldText(e);
      const input = slot.id ? $(`[aria-describedby~="${slot.id}"]`, form) : null;
      if (input) input.setAttribute("aria-invalid", "true");
    } else rest.push(fieldText(e));
  }
  const box = $(".form-error", form);
  if (box) {
    box.textContent = [problemText(p)].concat(rest).join(" ");
    box.hidden = false;
  } else flash(problemText(p), true);
}

function flash(text, bad) {
  const f = $("#flash");
  if (!f) return;
  f.textContent = text;
  f.className = bad ? "flash bad" : "flash";
  f.setAttribute("role", bad ? "alert" : "status");
  f.hidden = false;
}

// Run an async form handler with errors shown on the form, never lost.
function onSubmit(form, handler) {
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const button = $("button[type=submit]", form);
    if (button) button.disabled = true;
    try { await handler(form.elements, form); }
    catch (e) { showProblem(form, { code: "network" }); }
    finally { if (button) button.disabled = false; }
  });
}

// Load a list; on failure say so inside it.
async function loadJson(path) {
  const r = await api(path);
  if (!r.ok) throw await problemOf(r);
  return r.json();
}
function failList(el, p, cols) {
  const text = problemText(p || {});
  el.replaceChildren(cols ? h("tr", {}, h("td", { colspan: cols, class: "error" }, text)) : h("li", { class: "error" }, text));
}

// Save an API answer (a CSV export) as a file; a refusal is shown, not saved.
async function download(path, filename) {
  const r = await api(path);
  if (!r.ok) return flash(problemText(await problemOf(r)), true);
  const url = URL.createObjectURL(await r.blob());
  const a = h("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// --- formatting --------------------------------------------------------------

const locale = () => (config.lang === "en" ? "en-GB" : "nl-NL");
function fmtLocal(s) {
  // "2026-12-01T08:00:00" local wall-clock from the API
  const [d, time] = String(s).split("T");
  const [y, m, day] = d.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, day));
  const ds = date.toLocaleDateString(locale(), { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  return ds + " " + (time || "").slice(0, 5);
}
function fmtRange(a, b) { return fmtLocal(a) + "–" + String(b).split("T")[1].slice(0, 5); }
function euros(cents) { return (cents / 100).toLocaleString(locale(), { style: "currency", currency: "EUR" }); }
function addDays(isoDate, n) {
  const [y, m, d] = isoDate.split("-").map(Number);
  const x = new Date(Date.UTC(y, m - 1, d + n));
  return x.toISOString().slice(0, 10);
}
function todayLocal() {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Amsterdam", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  return parts;
}
function reasonText(r) {
  if (r.reason === "distance") return t("reason.distance", { km: r.km });
  return t("reason." + r.reason);
}
function statusBadge(s) { return h("span", { class: "badge status-" + s }, t("status." + s)); }

// --- live updates ------------------------------------------------------------

function live(onEvent) {
  let cursor = null, retry = 0;
  document.body.dataset.live = "connecting";
  const connect = async () => {
    try {
      const r = await api("/ws/ticket", { method: "POST" });
      if (!r.ok) throw new Error("ticket");
      const { ticket } = await r.json();
      const proto = location.protocol === "https:" ? "wss:" : "ws:";
      let url = `${proto}//${location.host}/api/v1/ws?ticket=${encodeURIComponent(ticket)}`;
      if (cursor) url += "&after=" + encodeURIComponent(cursor);
      const ws = new WebSocket(url);
      ws.onmessage = (m) => {
        let msg;
        try { msg = JSON.parse(m.data); } catch { return; }
        if (msg.cursor) cursor = msg.cursor;
        if (msg.type === "event") onEvent(msg);
        else if (msg.type === "resync_required") onEvent({ kind: "resync" });
        else if (msg.type === "ready") { retry = 0; document.body.dataset.live = "ready"; }
      };
      ws.onclose = () => { document.body.dataset.live = "closed"; later(); };
    } catch { later(); }
  };
  // Full jitter: a random wait below a ceiling that doubles per failed try
  // (250 ms, 500 ms, ... 30 s), so clients cut off together (an instance
  // gone) do not all come back in the same instant.
  const later = () => setTimeout(connect, Math.random() * Math.min(30000, 250 * 2 ** retry++));
  connect();
}

// --- anonymous pages ---------------------------------------------------------

async function adopt(tokens) {
  const r = await fetch("/web/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: tokens.refresh_token }), credentials: "same-origin" });
  if (!r.ok) throw await problemOf(r);
  location.href = "/app";
}

function pageInvitation() {
  onSubmit($("#invitation-form"), async (f, form) => {
    const errs = [];
    if (!f.name.value.trim()) errs.push({ field: "name", code: "required" });
    if (!f.password.value) errs.push({ field: "password", code: "required" });
    if (errs.length) return showProblem(form, { code: "validation_failed", errors: errs });
    const r = await api("/auth/invitations/accept", { method: "POST", body: { token: form.dataset.token, name: f.name.value, password: f.password.value, language: config.lang } });
    if (!r.ok) return showProblem(form, await problemOf(r));
    try { await adopt(await r.json()); } catch (p) { showProblem(form, p); }
  });
}

function pagePasswordReset() {
  onSubmit($("#reset-request-form"), async (f, form) => {
    if (!f.email.value.trim()) return showProblem(form, { code: "validation_failed", errors: [{ field: "email", code: "required" }] });
    const r = await api("/auth/password-reset", { method: "POST", body: { email: f.email.value.trim() } });
    if (!r.ok) return showProblem(form, await problemOf(r));
    form.replaceChildren(h("p", { role: "status" }, t("js.reset_sent")));
  });
  onSubmit($("#reset-confirm-form"), async (f, form) => {
    if (!f.password.value) return showProblem(form, { code: "validation_failed", errors: [{ field: "password", code: "required" }] });
    const r = await api("/auth/password-reset/confirm", { method: "POST", body: { token: form.dataset.token, password: f.password.value } });
    if (!r.ok) return showProblem(form, await problemOf(r));
    form.replaceChildren(h("p", { role: "status" }, t("js.reset_done"), " ", h("a", { href: "/login" }, t("nav.login"))));
  });
}

// --- practice ----------------------------------------------------------------

function pagePractice() {
  const tbody = $("#calls"), form = $("#post-call"), repeat = $("#repeat");
  form.dataset.key = newKey();
  if (!form.elements.date.value) form.elements.date.value = addDays(todayLocal(), 1);
  let calls = [];
  const load = async () => {
    try { calls = await loadJson("/shifts?limit=200"); } catch (p) { return failList(tbody, p, 5); }
    const rows = calls.map((s) => h("tr", { dataset: { shift: s.id } },
      h("td", {}, fmtRange(s.starts_at_local, s.ends_at_local)),
      h("td", {}, t("profession." + s.profession), " · ", t("kind." + s.kind)),
      h("td", {}, statusBadge(s.status), s.urgent ? h("span", { class: "badge urgent" }, t("js.urgent")) : null),
      h("td", {}, String(s.slots)),
      h("td", {}, h("a", { href: "/app/practice/calls/" + s.id }, t("common.open")))));
    tbody.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 5 }, t("js.no_calls")))]));
    const open = calls.filter((s) => s.status === "open");
    $("#call-summary").replaceChildren(
      h("span", {}, t("js.count_open", { n: open.length })),
      h("span", {}, t("js.count_urgent", { n: open.filter((s) => s.urgent).length })),
      h("span", {}, t("js.count_filled", { n: calls.filter((s) => s.status === "filled").length })));
    const seen = new Set();
    repeat.replaceChildren(h("option", { value: "" }, t("practice.repeat_none")));
    for (const s of calls) {
      const key = [s.profession, s.kind, s.starts_at_local.slice(11, 16), s.ends_at_local.slice(11, 16), s.rate_cents].join("|");
      if (seen.has(key)) continue;
      seen.add(key);
      repeat.append(h("option", { value: s.id }, `${t("profession." + s.profession)} · ${t("kind." + s.kind)} · ${s.starts_at_local.slice(11, 16)}–${s.ends_at_local.slice(11, 16)} · ${euros(s.rate_cents)}`));
    }
  };
  repeat.addEventListener("change", () => {
    const s = calls.find((c) => c.id === repeat.value);
    if (!s) return;
    const f = form.elements;
    f.practice_id.value = s.practice_id;
    f.profession.value = s.profession;
    f.kind.value = s.kind;
    f.start_time.value = s.starts_at_local.slice(11, 16);
    f.end_time.value = s.ends_at_local.slice(11, 16);
    f.rate.value = (s.rate_cents / 100).toFixed(2);
    f.engagement_type.value = s.engagement_type;
    f.slots.value = s.slots;
    f.notes.value = s.notes || "";
    f.date.focus();
  });
  onSubmit(form, async (f) => {
    const errs = [];
    if (!f.date.value) errs.push({ field: "starts_at", code: "required" });
    if (!f.start_time.value) errs.push({ field: "starts_at", code: "required" });
    if (!f.end_time.value) errs.push({ field: "ends_at", code: "required" });
    const rate = parseFloat(String(f.rate.value).replace(",", "."));
    if (!f.rate.value) errs.push({ field: "rate_cents", code: "required" });
    else if (!Number.isFinite(rate)) errs.push({ field: "rate_cents", code: "not_a_number" });
    if (errs.length) return showProblem(form, { code: "validation_failed", errors: errs });
    const endDate = f.end_time.value <= f.start_time.value ? addDays(f.date.value, 1) : f.date.value;
    const body = {
      practice_id: f.practice_id.value, profession: f.profession.value, kind: f.kind.value,
      starts_at: f.date.value + "T" + f.start_time.value, ends_at: endDate + "T" + f.end_time.value,
      rate_cents: Math.round(rate * 100), engagement_type: f.engagement_type.value,
      urgent: f.urgent.checked, slots: parseInt(f.slots.value, 10) || 1,
    };
    if (f.notes.value.trim()) body.notes = f.notes.value.trim();
    const r = await api("/shifts", { method: "POST", body, headers: { "Idempotency-Key": form.dataset.key } });
    if (!r.ok) { form.dataset.key = newKey(); return showProblem(form, await problemOf(r)); }
    const s = await r.json();
    location.href = "/app/practice/calls/" + s.id;
  });
  live((ev) => { if (["booking_confirmed", "booking_cancelled", "application", "resync"].includes(ev.kind)) load(); });
  load();
}

function pageCall() {
  const id = config.shift_id;
  const box = $("#call"), cand = $("#candidates"), apps = $("#applications"), booked = $("#call-bookings");
  let shift = null;
  const names = new Map();
  const act = async (path, method, body, okText) => {
    const r = await api(path, { method, body });
    if (!r.ok) return flash(problemText(await problemOf(r)), true);
    flash(okText);
    load();
  };
  const load = async () => {
    try { shift = await loadJson("/shifts/" + id); } catch (p) { box.replaceChildren(h("p", { class: "error", role: "alert" }, problemText(p))); return; }
    box.replaceChildren(
      h("h2", {}, t("profession." + shift.profession), " · ", t("kind." + shift.kind)),
      h("p", { id: "call-status", dataset: { status: shift.status } }, t("field.status"), ": ", statusBadge(shift.status),
        shift.urgent ? h("span", { class: "badge urgent" }, t("js.urgent")) : null),
      h("p", {}, fmtRange(shift.starts_at_local, shift.ends_at_local), " · ", euros(shift.rate_cents), " ", t("js.per_hour"), " · ", t("engagement." + shift.engagement_type)),
      h("p", {}, t("js.released_tier", { n: shift.released_tier }), " · ", t("field.slots"), ": ", String(shift.slots)));
    $("#cancel-call").hidden = !["open", "draft", "filled"].includes(shift.status);
    const [c, a, b] = await Promise.allSettled([loadJson(`/shifts/${id}/candidates`), loadJson(`/shifts/${id}/applications`), loadJson("/bookings?limit=200")]);
    if (c.status === "fulfilled") {
      for (const x of c.value) names.set(x.user_id, x.name);
      const rows = c.value.map((x) => h("tr", { dataset: { user: x.user_id } },
        h("td", {}, x.name),
        h("td", {}, t("tier." + x.tier)),
        h("td", {}, h("ul", { class: "reasons" }, (x.reasons || []).map((r) => h("li", {}, reasonText(r))))),
        h("td", {}, x.offered ? t("common.yes") : t("common.no")),
        h("td", {},
          shift.status === "open" ? h("button", { type: "button", class: "small", onclick: () => act(`/shifts/${id}/invitations`, "POST", { user_id: x.user_id }, t("js.invited", { name: x.name })) }, t("js.invite")) : null,
          " ",
          h("button", { type: "button", class: "small secondary", onclick: () => act(`/practices/${shift.practice_id}/favourites`, "POST", { user_id: x.user_id }, t("js.favourite_added", { name: x.name })) }, t("js.add_favourite")))));
      cand.replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 5 }, t("js.no_candidates")))]));
    } else failList(cand, c.reason, 5);
    if (a.status === "fulfilled") {
      const open = a.value.filter((x) => x.status === "applied");
      apps.replaceChildren(...(open.length ? open.map((x) => h("li", { dataset: { application: x.id } },
        h("span", {}, names.get(x.user_id) || t("js.someone")),
        h("button", { type: "button", class: "small", onclick: () => act(`/shifts/${id}/applications/${x.id}/confirm`, "POST", undefined, t("js.confirmed")) }, t("js.confirm")))) : [h("li", {}, t("js.no_applicants"))]));
    } else failList(apps, a.reason);
    if (b.status === "fulfilled") {
      const mine = b.value.filter((x) => x.shift_id === id && x.status === "confirmed");
      booked.replaceChildren(...(mine.length ? mine.map((x) => bookingItem(x, names.get(x.user_id) || t("js.someone"), load)) : [h("li", {}, t("js.no_bookings"))]));
    } else failList(booked, b.reason);
  };
  onSubmit($("#cancel-call"), async (f, form) => {
    const q = f.reason.value.trim() ? "?reason=" + encodeURIComponent(f.reason.value.trim()) : "";
    const r = await api(`/shifts/${id}${q}`, { method: "DELETE" });
    if (!r.ok) return showProblem(form, await problemOf(r));
    flash(t("js.call_cancelled"));
    load();
  });
  live((ev) => { if (ev.shift_id === id || ev.kind === "resync") load(); });
  load();
}

// A booking with its cancel form (reason required).
function bookingItem(b, who, reload) {
  const form = h("form", { class: "inline-form", novalidate: true },
    h("div", { role: "alert", class: "error form-error", hidden: true }),
    h("label", { for: "reason-" + b.id }, t("field.reason")),
    h("input", { id: "reason-" + b.id, name: "reason", required: true, maxlength: 500, "aria-describedby": "reason-error-" + b.id }),
    h("p", { class: "field-error", id: "reason-error-" + b.id, "data-for": "reason" }),
    h("button", { type: "submit", class: "small danger" }, t("js.cancel_booking")));
  onSubmit(form, async (f) => {
    if (!f.reason.value.trim()) return showProblem(form, { code: "validation_failed", errors: [{ field: "reason", code: "required" }] });
    const r = await api(`/bookings/${b.id}/cancel`, { method: "POST", body: { reason: f.reason.value.trim() } });
    if (!r.ok) return showProblem(form, await problemOf(r));
    const res = await r.json();
    flash(res.late_cancellation ? t("js.cancelled_late") : t("js.cancelled"));
    reload();
  });
  return h("li", { dataset: { booking: b.id } },
    h("span", {}, h("strong", {}, fmtRange(b.starts_at_local, b.ends_at_local)), " · ", who, " · ", euros(b.rate_cents), " ", t("js.per_hour")),
    form);
}

function pageFavourites() {
  for (const ul of $$(".favourites")) {
    const pid = ul.dataset.practice;
    const load = async () => {
      let items;
      try { items = await loadJson(`/practices/${pid}/favourites`); } catch (p) { return failList(ul, p); }
      const list = Array.isArray(items) ? items : items.items || [];
      ul.replaceChildren(...(list.length ? list.map((f) => h("li", {},
        h("span", {}, f.name || f.user_id),
        h("button", { type: "button", class: "small secondary", onclick: async () => {
          const r = await api(`/practices/${pid}/favourites/${f.user_id}`, { method: "DELETE" });
          if (!r.ok) return flash(problemText(await problemOf(r)), true);
          flash(t("js.favourite_removed"));
          load();
        } }, t("common.remove")))) : [h("li", {}, t("js.no_favourites"))]));
    };
    load();
  }
}

// A practice offers its own staff's free hours: each employee's windows, and
// a form that publishes one for them (matching starts at once).
function pageStaff() {
  for (const section of $$(".staff-practice")) {
    const pid = section.dataset.practice, ul = $(".staff", section);
    const load = async () => {
      let people;
      try { people = await loadJson(`/practices/${pid}/staff`); } catch (p) { return failList(ul, p); }
      if (!people.length) return ul.replaceChildren(h("li", {}, t("js.no_staff")));
      const items = await Promise.all(people.map(async (m) => {
        let windows = [];
        try { windows = (await loadJson(`/availability?user_id=${m.id}`)).items || []; } catch { windows = null; }
        return staffItem(m, windows, load);
      }));
      ul.replaceChildren(...items);
    };
    load();
  }
}

function staffItem(m, windows, reload) {
  const key = m.id.slice(0, 8);
  const form = h("form", { class: "inline-form", novalidate: true, dataset: { user: m.id } },
    h("div", { role: "alert", class: "error form-error", hidden: true }),
    h("div", {}, h("label", { for: "date-" + key }, t("field.date")), h("input", { id: "date-" + key, name: "date", type: "date", required: true, value: addDays(todayLocal(), 1), "aria-describedby": "start-error-" + key })),
    h("div", {}, h("label", { for: "start-" + key }, t("field.start_time")), h("input", { id: "start-" + key, name: "start", type: "time", value: "08:00", required: true })),
    h("div", {}, h("label", { for: "end-" + key }, t("field.end_time")), h("input", { id: "end-" + key, name: "end", type: "time", value: "17:00", required: true })),
    h("p", { class: "field-error", id: "start-error-" + key, "data-for": "starts_at" }),
    h("p", { class: "field-error", "data-for": "ends_at" }),
    h("button", { type: "submit", class: "small" }, t("js.offer_hours")));
  onSubmit(form, async (f) => {
    if (!f.date.value) return showProblem(form, { code: "validation_failed", errors: [{ field: "starts_at", code: "required" }] });
    const endDate = f.end.value <= f.start.value ? addDays(f.date.value, 1) : f.date.value;
    const r = await api("/availability", { method: "POST", body: { kind: "once", user_id: m.id, starts_at: f.date.value + "T" + f.start.value, ends_at: endDate + "T" + f.end.value } });
    if (!r.ok) return showProblem(form, await problemOf(r));
    const res = await r.json();
    flash(t("js.hours_offered", { name: m.name, n: res.offers || 0 }));
    reload();
  });
  const list = windows === null
    ? h("p", { class: "error" }, t("err.internal_error"))
    : windows.length
      ? h("ul", { class: "windows" }, windows.map((a) => h("li", {},
        a.kind === "weekly" ? `${t("weekday." + a.weekday)} ${a.start_time.slice(0, 5)}–${a.end_time.slice(0, 5)} ↻` : `${fmtLocal(a.local_starts_at.slice(0, 16))} – ${a.local_ends_at.slice(11, 16)}`,
        " ",
        h("button", { type: "button", class: "link", onclick: async () => {
          const r = await api("/availability/" + a.id, { method: "DELETE" });
          if (!r.ok) return flash(problemText(await problemOf(r)), true);
          flash(t("js.removed"));
          reload();
        } }, t("common.remove")))))
      : h("p", { class: "muted" }, t("js.no_staff_hours"));
  return h("li", { class: "stack", dataset: { staff: m.id } },
    h("strong", {}, m.name), " · ", m.professions.map((p) => t("profession." + p)).join(", "),
    list, form);
}

// --- hours -------------------------------------------------------------------

// Hours worked: a worker submits them after the shift; the practice approves
// or amends them. One page, two modes (config.mode).
function pageHours() {
  const ul = $("#hours"), status = $("#hours-status"), practice = config.mode === "practice";
  const load = async () => {
    let rows;
    const q = status.value ? "&status=" + status.value : "";
    const from = addDays(todayLocal(), -60);
    try { rows = await loadJson(`/hours?from=${from}&limit=200${q}`); } catch (p) { return failList(ul, p); }
    ul.replaceChildren(...(rows.length ? rows.map((x) => hoursItem(x, practice, load)) : [h("li", {}, t("js.no_hours"))]));
  };
  status.addEventListener("change", load);
  const csv = $("#hours-csv");
  if (csv) csv.addEventListener("click", () => {
    const from = addDays(todayLocal(), -60), to = todayLocal();
    download(`/hours.csv?from=${from}&to=${to}`, `uren-${from}-${to}.csv`);
  });
  load();
}

function workedText(w) {
  return `${fmtLocal(w.starts_at_local)}–${String(w.ends_at_local).split("T")[1].slice(0, 5)} · ${t("js.break_minutes", { n: w.break_minutes })} · ${w.worked_hours} ${t("js.hours_short")}`;
}

// Start/end/break fields for a stretch of work on the booked day.
function workFields(key, w, errorField) {
  return [
    h("div", {}, h("label", { for: "start-" + key }, t("field.start_time")), h("input", { id: "start-" + key, name: "start", type: "time", required: true, value: w.starts_at_local.slice(11, 16), "aria-describedby": "err-" + key })),
    h("div", {}, h("label", { for: "end-" + key }, t("field.end_time")), h("input", { id: "end-" + key, name: "end", type: "time", required: true, value: w.ends_at_local.slice(11, 16) })),
    h("div", {}, h("label", { for: "break-" + key }, t("field.break_minutes")), h("input", { id: "break-" + key, name: "break_minutes", type: "number", min: 0, step: 5, value: w.break_minutes || 0 })),
    h("p", { class: "field-error", id: "err-" + key, "data-for": errorField }),
    h("p", { class: "field-error", "data-for": "ends_at" }),
    h("p", { class: "field-error", "data-for": "break_minutes" }),
  ];
}
function workBody(f, day) {
  const endDay = f.end.value <= f.start.value ? addDays(day, 1) : day;
  const mins = parseInt(f.break_minutes.value || "0", 10);
  return { starts_at: day + "T" + f.start.value, ends_at: endDay + "T" + f.end.value, break_minutes: Number.isFinite(mins) ? mins : -1 };
}

function hoursItem(x, practice, reload) {
  const key = x.booking_id.slice(0, 8), day = x.booked.starts_at_local.slice(0, 10);
  const head = h("div", {},
    h("strong", {}, fmtRange(x.booked.starts_at_local, x.booked.ends_at_local)), " · ",
    practice ? (x.worker_name || t("js.someone")) : (x.practice_name || "—"), " ",
    h("span", { class: "badge hours-" + x.status }, t("hours_status." + x.status)));
  const parts = [head];
  if (x.submitted) parts.push(h("p", {}, t("js.submitted"), ": ", workedText(x.submitted), x.reason ? " · " + x.reason : ""));
  if (x.approved) parts.push(h("p", {}, t("js.counts"), ": ", workedText(x.approved), x.note ? " · " + x.note : ""));
  if (!practice && ["not_submitted", "submitted"].includes(x.status)) {
    const w = x.submitted || x.booked;
    const form = h("form", { class: "inline-form", novalidate: true, dataset: { booking: x.booking_id } },
      h("div", { role: "alert", class: "error form-error", hidden: true }),
      ...workFields(key, w, "starts_at"),
      h("div", {}, h("label", { for: "reason-" + key }, t("js.reason_if_different")), h("input", { id: "reason-" + key, name: "reason", maxlength: 1000 })),
      h("p", { class: "field-error", "data-for": "reason" }),
      h("button", { type: "submit", class: "small" }, x.status === "submitted" ? t("js.resubmit_hours") : t("js.submit_hours")));
    onSubmit(form, async (f) => {
      const body = workBody(f, day);
      if (f.reason.value.trim()) body.reason = f.reason.value.trim();
      const r = await api(`/bookings/${x.booking_id}/hours`, { method: "POST", body });
      if (!r.ok) return showProblem(form, await problemOf(r));
      flash(t("js.hours_submitted"));
      reload();
    });
    parts.push(form);
  }
  if (practice && x.status === "submitted") {
    const approve = h("button", { type: "button", class: "small approve", onclick: async () => {
      const r = await api(`/bookings/${x.booking_id}/hours/approve`, { method: "POST", body: {} });
      if (!r.ok) return flash(problemText(await problemOf(r)), true);
      flash(t("js.hours_approved"));
      reload();
    } }, t("js.approve"));
    const form = h("form", { class: "inline-form", novalidate: true, dataset: { booking: x.booking_id } },
      h("div", { role: "alert", class: "error form-error", hidden: true }),
      ...workFields(key, x.submitted, "starts_at"),
      h("div", {}, h("label", { for: "note-" + key }, t("js.amend_note")), h("input", { id: "note-" + key, name: "note", maxlength: 1000, "aria-describedby": "note-err-" + key })),
      h("p", { class: "field-error", id: "note-err-" + key, "data-for": "note" }),
      h("button", { type: "submit", class: "small secondary" }, t("js.amend")));
    onSubmit(form, async (f) => {
      const body = workBody(f, day);
      if (!f.note.value.trim()) return showProblem(form, { code: "validation_failed", errors: [{ field: "note", code: "note_required" }] });
      body.note = f.note.value.trim();
      const r = await api(`/bookings/${x.booking_id}/hours/approve`, { method: "POST", body });
      if (!r.ok) return showProblem(form, await problemOf(r));
      flash(t("js.hours_amended"));
      reload();
    });
    parts.push(h("div", { class: "actions" }, approve), h("details", { class: "amend" }, h("summary", {}, t("js.amend_open")), form));
  }
  return h("li", { class: "stack", dataset: { hours: x.booking_id, status: x.status } }, ...parts);
}

// --- secondments -------------------------------------------------------------

function pageSecondments() {
  const ul = $("#secondments");
  const load = async () => {
    let list;
    try { list = await loadJson("/secondments?limit=200"); } catch (p) { return failList(ul, p); }
    ul.replaceChildren(...(list.length ? list.map((s) => secondmentItem(s, load)) : [h("li", {}, t("js.no_secondments"))]));
  };
  const form = $("#arrange");
  if (form) arrangeSecondment(form, load);
  live((ev) => { if (String(ev.kind).startsWith("secondment") || ev.kind === "resync") load(); });
  load();
}

function scheduleText(s) {
  return s.schedule.map((e) => `${t("weekday." + e.weekday)} ${e.start}–${e.end}`).join(", ");
}

function secondmentItem(s, reload) {
  const act = async (path, body, ok) => {
    const r = await api(`/secondments/${s.id}/${path}`, { method: "POST", body, headers: { "Idempotency-Key": newKey() } });
    if (!r.ok) return flash(problemText(await problemOf(r)), true);
    flash(ok);
    reload();
  };
  const parts = [
    h("div", {},
      h("strong", {}, s.person_name || t("js.someone")), " · ", t("profession." + s.profession), " → ", s.borrowing_practice_name || "—", " ",
      h("span", { class: "badge secondment-" + s.status }, t("secondment_status." + s.status))),
    h("p", {}, `${s.starts_on} – ${s.ends_on}${s.proposed_ends_on ? " (" + t("js.extension_to", { date: s.proposed_ends_on }) + ")" : ""} · ${scheduleText(s)}`),
    h("p", { class: "muted" }, t("js.lender"), ": ", s.lending_practice_name || t("js.rho_pool"), " · ",
      t("js.occurrences", { n: s.occurrences, booked: s.booked, hours: Math.round(s.planned_hours) }),
      s.awaiting.length ? " · " + t("js.awaiting", { who: s.awaiting.map((p) => t("party." + p)).join(", ") }) : ""),
  ];
  if (s.status === "proposed" || s.proposed_ends_on) {
    const decline = h("form", { class: "inline-form", novalidate: true },
      h("div", { role: "alert", class: "error form-error", hidden: true }),
      h("label", { for: "decline-" + s.id }, t("field.reason")),
      h("input", { id: "decline-" + s.id, name: "reason", maxlength: 500 }),
      h("button", { type: "submit", class: "small danger" }, t("js.decline")));
    onSubmit(decline, async (f, form) => {
      if (!f.reason.value.trim()) return showProblem(form, { code: "validation_failed", errors: [{ field: "reason", code: "required" }] });
      await act("decline", { reason: f.reason.value.trim() }, t("js.secondment_declined"));
    });
    parts.push(h("div", { class: "actions" }, h("button", { type: "button", class: "small approve", onclick: () => act("approve", undefined, t("js.secondment_approved")) }, t("js.approve"))), decline);
  }
  return h("li", { class: "stack", dataset: { secondment: s.id, status: s.status } }, ...parts);
}

// The coordinator's four steps: person, borrowing practice, period and
// schedule, review. Each step is checked before the next is shown; the
// server checks everything again and its answer is shown on the form.
function arrangeSecondment(form, reload) {
  const f = form.elements, steps = $$("fieldset[data-step]", form), marks = $$(".steps li");
  let people = [], practices = [], step = 1;
  const show = (n) => {
    step = n;
    steps.forEach((fs) => { fs.hidden = Number(fs.dataset.step) !== n; });
    marks.forEach((li) => { if (Number(li.dataset.step) === n) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current"); });
    const first = $("select, input", steps[n - 1]);
    if (first) first.focus();
  };
  const fillPeople = async () => {
    f.user_id.replaceChildren(h("option", { value: "" }, t("common.loading")));
    try {
      const page = await loadJson(`/workers?organisation_id=${f.organisation_id.value}&limit=200`);
      people = (page.items || []).filter((w) => w.employer_kind !== "self");
    } catch (p) { return showProblem(form, p); }
    f.user_id.replaceChildren(h("option", { value: "" }, t("js.choose_person")), ...people.map((w) => h("option", { value: w.id }, `${w.name} · ${w.professions.map((p) => t("profession." + p)).join(", ")}`)));
  };
  const fillProfessions = () => {
    const w = people.find((x) => x.id === f.user_id.value);
    f.profession.replaceChildren(...(w ? w.professions : []).map((p) => h("option", { value: p }, t("profession." + p))));
  };
  const fillPractices = async () => {
    try {
      const page = await loadJson("/practices?limit=200");
      practices = page.items || page;
    } catch (p) { return showProblem(form, p); }
    f.borrowing_practice_id.replaceChildren(h("option", { value: "" }, t("js.choose_practice")), ...practices.map((p) => h("option", { value: p.id }, `${p.name} · ${p.city}`)));
  };
  const schedule = () => [1, 2, 3, 4, 5, 6, 7].filter((d) => f["day" + d].checked).map((d) => ({ weekday: d, start: f["start" + d].value, end: f["end" + d].value }));
  const rateCents = () => Math.round(parseFloat(String(f.rate.value || "0").replace(",", ".")) * 100);
  const check = (n) => {
    const errs = [];
    if (n === 1 && !f.user_id.value) errs.push({ field: "user_id", code: "required" });
    if (n === 2) {
      if (!f.borrowing_practice_id.value) errs.push({ field: "borrowing_practice_id", code: "required" });
      if (!Number.isFinite(rateCents()) || rateCents() < 0) errs.push({ field: "rate_cents", code: "not_a_number" });
    }
    if (n === 3) {
      if (!f.starts_on.value) errs.push({ field: "starts_on", code: "required" });
      if (!f.ends_on.value) errs.push({ field: "ends_on", code: "required" });
      if (!schedule().length) errs.push({ field: "schedule", code: "empty_schedule" });
    }
    if (errs.length) { showProblem(form, { code: "validation_failed", errors: errs }); return false; }
    clearErrors(form);
    return true;
  };
  const review = () => {
    const w = people.find((x) => x.id === f.user_id.value), p = practices.find((x) => x.id === f.borrowing_practice_id.value);
    const rows = [
      [t("field.person"), w ? w.name : "—"], [t("field.profession"), t("profession." + f.profession.value)],
      [t("secondments.borrowing_practice"), p ? p.name : "—"], [t("secondments.rate"), euros(rateCents()) + " " + t("js.per_hour")],
      [t("secondments.first_day"), f.starts_on.value], [t("secondments.last_day"), f.ends_on.value],
      [t("secondments.step_schedule"), scheduleText({ schedule: schedule() })]];
    $("#sec-review").replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
    $("#sec-clashes").hidden = true;
  };
  for (const b of $$("button.next", form)) b.addEventListener("click", () => { if (check(step)) { if (step === 3) review(); show(step + 1); } });
  for (const b of $$("button.back", form)) b.addEventListener("click", () => { clearErrors(form); show(step - 1); });
  f.organisation_id.addEventListener("change", fillPeople);
  f.user_id.addEventListener("change", fillProfessions);
  if (!f.starts_on.value) f.starts_on.value = addDays(todayLocal(), 7);
  if (!f.ends_on.value) f.ends_on.value = addDays(todayLocal(), 7 + 27);
  form.dataset.key = newKey();
  onSubmit(form, async () => {
    const body = {
      user_id: f.user_id.value, borrowing_practice_id: f.borrowing_practice_id.value, profession: f.profession.value || undefined,
      starts_on: f.starts_on.value, ends_on: f.ends_on.value, schedule: schedule(), rate_cents: rateCents(),
    };
    if (f.notes.value.trim()) body.notes = f.notes.value.trim();
    const r = await api("/secondments", { method: "POST", body, headers: { "Idempotency-Key": form.dataset.key } });
    if (!r.ok) {
      form.dataset.key = newKey();
      const p = await problemOf(r);
      const clashes = $("#sec-clashes");
      if (p.clashes && p.clashes.length) {
        clashes.replaceChildren(...p.clashes.map((c) => h("li", {}, fmtRange(c.starts_at_local, c.ends_at_local))));
        clashes.hidden = false;
      }
      // A field error belongs to an earlier step: go back there to show it.
      const field = (p.errors || [])[0] && p.errors[0].field;
      const back = { user_id: 1, profession: 1, borrowing_practice_id: 2, rate_cents: 2, starts_on: 3, ends_on: 3, schedule: 3, notes: 3 }[field];
      if (back) show(back);
      return showProblem(form, p);
    }
    flash(t("js.secondment_proposed"));
    form.reset();
    form.dataset.key = newKey();
    f.starts_on.value = addDays(todayLocal(), 7);
    f.ends_on.value = addDays(todayLocal(), 7 + 27);
    show(1);
    reload();
  });
  fillPeople();
  fillPractices();
}

// --- worker ------------------------------------------------------------------

function pageWorker() {
  const offers = $("#offers"), bookings = $("#bookings");
  const loadOffers = async () => {
    let list;
    try { list = await loadJson("/shifts?sort=fit"); } catch (p) { return failList(offers, p); }
    offers.replaceChildren(...(list.length ? list.map((s) => h("li", { class: "offer", dataset: { shift: s.id } },
      h("div", {},
        h("strong", {}, fmtRange(s.starts_at_local, s.ends_at_local)), " ",
        s.urgent ? h("span", { class: "badge urgent" }, t("js.urgent")) : null,
        h("br"), t("profession." + s.profession), " · ", t("kind." + s.kind), " · ", euros(s.rate_cents), " ", t("js.per_hour"),
        s.distance_km != null ? " · " + t("reason.distance", { km: s.distance_km }) : ""),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "accept", onclick: (ev) => accept(s, ev.target) }, t("js.accept")),
        h("button", { type: "button", class: "secondary decline", onclick: () => decline(s) }, t("js.decline"))))) : [h("li", { class: "empty" }, t("js.no_offers"))]));
  };
  const loadBookings = async () => {
    let list;
    try { list = await loadJson("/bookings"); } catch (p) { return failList(bookings, p); }
    bookings.replaceChildren(...(list.length ? list.map((b) => bookingItem(b, t("engagement." + b.engagement_type), loadBookings)) : [h("li", {}, t("js.no_bookings"))]));
  };
  const accept = async (s, button) => {
    button.disabled = true;
    const r = await api(`/shifts/${s.id}/accept`, { method: "POST", headers: { "Idempotency-Key": "accept-" + s.id } });
    if (!r.ok) { button.disabled = false; flash(problemText(await problemOf(r)), true); loadOffers(); return; }
    const res = await r.json();
    flash(res.outcome === "booked" ? t("js.booked") : t("js.applied"));
    loadOffers(); loadBookings();
  };
  const decline = async (s) => {
    const r = await api(`/shifts/${s.id}/decline`, { method: "POST" });
    if (!r.ok) return flash(problemText(await problemOf(r)), true);
    flash(t("js.declined"));
    loadOffers();
  };
  onSubmit($("#available-now"), async (f, form) => {
    const r = await api("/availability/now", { method: "POST", body: { hours: parseInt(f.hours.value, 10) } });
    if (!r.ok) return showProblem(form, await problemOf(r));
    const res = await r.json();
    flash(t("js.available_now", { n: res.offers || 0 }));
    loadOffers();
  });
  live((ev) => {
    if (ev.kind === "offer") flash(t("js.new_offer"));
    if (ev.kind === "offer_withdrawn") {
      const key = "js.offer_withdrawn." + ((ev.payload && ev.payload.reason) || "other");
      flash(M[key] !== undefined ? M[key] : t("js.offer_withdrawn.other"));
    }
    if (ev.kind === "booking_cancelled") flash(t("js.booking_cancelled"));
    loadOffers();
    if (["booking_confirmed", "booking_cancelled", "resync"].includes(ev.kind)) loadBookings();
  });
  loadOffers();
  loadBookings();
}

function pageAvailability() {
  const week = $("#week"), list = $("#availability-list");
  let monday = (() => { const d = todayLocal(); const dow = (new Date(d + "T12:00:00Z").getUTCDay() + 6) % 7; return addDays(d, -dow); })();
  let items = [];
  const render = () => {
    $("#week-label").textContent = t("js.week_of", { date: fmtLocal(monday + "T").trim() });
    week.replaceChildren(...[0, 1, 2, 3, 4, 5, 6].map((i) => {
      const day = addDays(monday, i);
      const entries = [];
      for (const a of items) {
        if (a.kind === "weekly") {
          const ok = a.weekday === i + 1 && (!a.valid_from || a.valid_from <= day) && (!a.valid_until || day <= a.valid_until) && !(a.exceptions || []).includes(day);
          if (ok) entries.push(`${a.start_time.slice(0, 5)}–${a.end_time.slice(0, 5)} ↻`);
        } else if (a.local_starts_at) {
          const s = a.local_starts_at.slice(0, 10), e = a.local_ends_at.slice(0, 10);
          if (s <= day && day <= e) entries.push(`${s === day ? a.local_starts_at.slice(11, 16) : "00:00"}–${e === day ? a.local_ends_at.slice(11, 16) : "24:00"}`);
        }
      }
      return h("div", { class: "day", role: "listitem", dataset: { date: day } },
        h("h3", {}, fmtLocal(day + "T").trim()),
        entries.length ? h("ul", {}, entries.map((x) => h("li", {}, x))) : h("p", { class: "muted" }, t("js.not_available")));
    }));
    list.replaceChildren(...(items.length ? items.map((a) => h("li", { dataset: { availability: a.id } },
      h("span", {}, a.kind === "weekly"
        ? `${t("weekday." + a.weekday)} ${a.start_time.slice(0, 5)}–${a.end_time.slice(0, 5)}${a.valid_from ? " · " + t("field.valid_from") + " " + a.valid_from : ""}`
        : `${fmtLocal(a.local_starts_at.slice(0, 16))} – ${fmtLocal(a.local_ends_at.slice(0, 16))}`),
      h("button", { type: "button", class: "small secondary", onclick: async () => {
        const r = await api("/availability/" + a.id, { method: "DELETE" });
        if (!r.ok) return flash(problemText(await problemOf(r)), true);
        flash(t("js.removed"));
        load();
      } }, t("common.remove")))) : [h("li", {}, t("js.no_availability"))]));
  };
  const load = async () => {
    try { const r = await loadJson("/availability"); items = r.items || []; } catch (p) { return failList(list, p); }
    render();
  };
  $("#week-prev").addEventListener("click", () => { monday = addDays(monday, -7); render(); });
  $("#week-next").addEventListener("click", () => { monday = addDays(monday, 7); render(); });
  onSubmit($("#add-once"), async (f, form) => {
    if (!f.date.value) return showProblem(form, { code: "validation_failed", errors: [{ field: "starts_at", code: "required" }] });
    const endDate = f.end.value <= f.start.value ? addDays(f.date.value, 1) : f.date.value;
    const r = await api("/availability", { method: "POST", body: { kind: "once", starts_at: f.date.value + "T" + f.start.value, ends_at: endDate + "T" + f.end.value } });
    if (!r.ok) return showProblem(form, await problemOf(r));
    flash(t("js.availability_saved"));
    load();
  });
  onSubmit($("#add-weekly"), async (f, form) => {
    const body = { kind: "weekly", weekday: parseInt(f.weekday.value, 10), start_time: f.start.value, end_time: f.end.value };
    if (f.valid_from.value) body.valid_from = f.valid_from.value;
    const r = await api("/availability", { method: "POST", body });
    if (!r.ok) return showProblem(form, await problemOf(r));
    flash(t("js.availability_saved"));
    load();
  });
  load();
}

// --- coordinator -------------------------------------------------------------

function pageRegion() {
  const orgNames = new Map((config.orgs || []).map((o) => [o.id, o.name]));
  const practiceNames = new Map();
  const load = async () => {
    const [all, practices, books, agreements] = await Promise.allSettled([
      loadJson("/shifts?limit=200"), loadJson("/practices?limit=200"), loadJson("/bookings?include_cancelled=true&limit=200"), loadJson("/sharing-agreements")]);
    if (practices.status === "fulfilled") for (const p of practices.value.items || practices.value) practiceNames.set(p.id, p.name);
    const tbody = $("#open-calls");
    if (all.status === "fulfilled") {
      const calls = all.value;
      const open = calls.filter((s) => s.status === "open").sort((a, b) => (b.urgent - a.urgent) || a.starts_at.localeCompare(b.starts_at));
      const decided = calls.filter((s) => ["filled", "expired"].includes(s.status));
      const filled = calls.filter((s) => s.status === "filled");
      $("#region-stats").replaceChildren(
        h("div", { class: "stat" }, h("strong", {}, String(open.length)), h("span", {}, t("js.stat_open"))),
        h("div", { class: "stat" }, h("strong", {}, String(open.filter((s) => s.urgent).length)), h("span", {}, t("js.stat_urgent"))),
        h("div", { class: "stat" }, h("strong", {}, decided.length ? Math.round((100 * filled.length) / decided.length) + "%" : "–"), h("span", {}, t("js.stat_fill_rate"))));
      tbody.replaceChildren(...(open.length ? open.map((s) => h("tr", { class: s.urgent ? "urgent-row" : "" },
        h("td", {}, fmtRange(s.starts_at_local, s.ends_at_local)),
        h("td", {}, t("profession." + s.profession)),
        h("td", {}, practiceNames.get(s.practice_id) || "—"),
        h("td", {}, statusBadge(s.status), s.urgent ? h("span", { class: "badge urgent" }, t("js.urgent")) : null),
        h("td", {}, t("tier." + s.released_tier)))) : [h("tr", {}, h("td", { colspan: 5 }, t("js.no_calls")))]));
    } else failList(tbody, all.reason, 5);
    const late = $("#late-cancellations");
    if (books.status === "fulfilled") {
      const list = books.value.filter((b) => b.late_cancellation);
      late.replaceChildren(...(list.length ? list.map((b) => h("li", {}, h("span", {}, fmtRange(b.starts_at_local, b.ends_at_local), " · ", practiceNames.get(b.practice_id) || "—", " · ", t("js.cancelled_by." + (b.cancelled_by || "worker")), b.cancel_reason ? " · " + b.cancel_reason : ""))) : [h("li", {}, t("js.no_late"))]));
    } else failList(late, books.reason);
    const ag = $("#agreements");
    if (agreements.status === "fulfilled") {
      const list = agreements.value.items || agreements.value;
      const name = (id) => orgNames.get(id) || t("js.partner");
      ag.replaceChildren(...(list.length ? list.map((a) => h("li", { dataset: { agreement: a.id } }, h("span", {},
        `${name(a.from_organisation_id)} → ${name(a.to_organisation_id)}: ${a.professions.map((p) => t("profession." + p)).join(", ")} · ${t("field.valid_from")} ${a.valid_from}${a.valid_until ? " " + t("js.until") + " " + a.valid_until : ""}${a.revoked_at ? " · " + t("js.revoked") : ""}`),
        a.revoked_at ? null : h("button", { type: "button", class: "small secondary", onclick: async () => {
          const r = await api(`/sharing-agreements/${a.id}/revoke`, { method: "POST" });
          if (!r.ok) return flash(problemText(await problemOf(r)), true);
          flash(t("js.agreement_revoked"));
          load();
        } }, t("js.revoke")))) : [h("li", {}, t("js.no_agreements"))]));
    } else failList(ag, agreements.reason);
  };
  // Fill rate and time to fill per month (the last six), as bar charts.
  const months = (() => {
    const today = todayLocal();
    const out = [];
    let [y, m] = today.split("-").map(Number);
    for (let i = 0; i < 6; i++) {
      const from = `${y}-${String(m).padStart(2, "0")}-01`;
      const last = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
      out.unshift({ from, to: last < today ? last : today, label: new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString(locale(), { month: "short", timeZone: "UTC" }) });
      m -= 1; if (m === 0) { m = 12; y -= 1; }
    }
    return out;
  })();
  const chart = (fig, values, fmt, max) => {
    const NS = "http://www.w3.org/2000/svg", W = 320, H = 160, pad = 24, bw = (W - pad) / values.length;
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H + 20}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", values.map((v) => `${v.label}: ${v.value == null ? "–" : fmt(v.value)}`).join(", "));
    values.forEach((v, i) => {
      const hgt = v.value == null || !max ? 0 : Math.round((H - 20) * v.value / max);
      const x = pad + i * bw + 4;
      const rect = document.createElementNS(NS, "rect");
      Object.entries({ x, y: H - hgt, width: bw - 8, height: hgt, fill: "#0b5cab" }).forEach(([k, val]) => rect.setAttribute(k, val));
      const label = document.createElementNS(NS, "text");
      Object.entries({ x: x + (bw - 8) / 2, y: H + 14, "text-anchor": "middle", "font-size": 11, fill: "#1b1f24" }).forEach(([k, val]) => label.setAttribute(k, val));
      label.textContent = v.label;
      const value = document.createElementNS(NS, "text");
      Object.entries({ x: x + (bw - 8) / 2, y: H - hgt - 4, "text-anchor": "middle", "font-size": 11, fill: "#1b1f24" }).forEach(([k, val]) => value.setAttribute(k, val));
      value.textContent = v.value == null ? "–" : fmt(v.value);
      svg.append(rect, label, value);
    });
    $$("svg", fig).forEach((old) => old.remove());
    fig.append(svg);
  };
  const loadReports = async () => {
    const org = $("#report-org").value;
    if (!org) return;
    const reports = await Promise.allSettled(months.map((mo) => loadJson(`/reports/region?organisation_id=${org}&from=${mo.from}&to=${mo.to}`)));
    const failed = reports.find((r) => r.status === "rejected");
    if (failed) { flash(problemText(failed.reason), true); return; }
    const fill = months.map((mo, i) => ({ label: mo.label, value: reports[i].value.totals.fill_rate == null ? null : Math.round(reports[i].value.totals.fill_rate * 100) }));
    const ttf = months.map((mo, i) => ({ label: mo.label, value: reports[i].value.totals.time_to_fill_median_minutes }));
    chart($("#chart-fill"), fill, (v) => v + "%", 100);
    chart($("#chart-ttf"), ttf, (v) => (v >= 120 ? Math.round(v / 60) + " " + t("js.hours_short") : v + " " + t("js.minutes_short")), Math.max(1, ...ttf.map((v) => v.value || 0)));
    const today = $("#available-today");
    try {
      const people = await loadJson(`/reports/available-today?organisation_id=${org}`);
      today.replaceChildren(...(people.length ? people.map((p) => h("li", { dataset: { user: p.user_id } },
        h("span", {}, h("strong", {}, p.name), " · ", p.professions.map((x) => t("profession." + x)).join(", "), p.home_city ? " · " + p.home_city : "",
          p.agreement_id ? h("span", { class: "badge" }, t("reason.shared_by_agreement")) : null),
        h("span", {}, p.free.map((w) => `${w.starts_at_local.slice(11, 16)}–${w.ends_at_local.slice(11, 16)}`).join(", ")))) : [h("li", {}, t("js.no_available_today"))]));
    } catch (p) { failList(today, p); }
    const dba = $("#dba");
    try {
      const rep = await loadJson(`/reports/engagements?organisation_id=${org}`);
      $("#dba-threshold").textContent = t("js.dba_threshold", { n: rep.threshold_hours });
      const flagged = rep.engagements.filter((e) => e.above_threshold);
      dba.replaceChildren(...(flagged.length ? flagged.map((e) => h("li", { class: "flagged" }, h("span", {}, `${e.worker_name || t("js.someone")} · ${e.practice_name || "—"} · ${e.worked_hours} ${t("js.hours_short")}`), h("span", { class: "badge status-cancelled" }, t("js.above_threshold")))) : [h("li", {}, t("js.no_dba"))]));
    } catch (p) { failList(dba, p); }
  };
  $("#report-org").addEventListener("change", loadReports);
  $("#report-csv").addEventListener("click", () => {
    const org = $("#report-org").value;
    download(`/reports/region.csv?organisation_id=${org}&from=${months[0].from}&to=${months[5].to}`, `regio-${months[0].from}-${months[5].to}.csv`);
  });
  loadReports();
  onSubmit($("#invite"), async (f, form) => {
    if (!f.email.value.trim()) return showProblem(form, { code: "validation_failed", errors: [{ field: "email", code: "required" }] });
    const r = await api("/invitations", { method: "POST", body: { email: f.email.value.trim(), role: f.role.value, organisation_id: f.organisation_id.value }, headers: { "Idempotency-Key": newKey() } });
    if (!r.ok) return showProblem(form, await problemOf(r));
    flash(t("js.invitation_sent", { email: f.email.value.trim() }));
    form.reset();
  });
  sharingAgreementForm($("#agreement"), orgNames, load);
  live((ev) => { if (ev.kind === "resync") load(); });
  load();
}

// A coordinator shares some professions of their RHO with a partner RHO.
function sharingAgreementForm(form, orgNames, reload) {
  if (!form) return;
  const f = form.elements;
  f.valid_from.value = todayLocal();
  const partners = async () => {
    let regions = [];
    try { regions = await loadJson("/regions"); } catch (p) { return showProblem(form, p); }
    for (const r of regions) if (!orgNames.has(r.id)) orgNames.set(r.id, r.name);
    f.to_organisation_id.replaceChildren(...regions.filter((r) => r.id !== f.from_organisation_id.value).map((r) => h("option", { value: r.id }, r.name)));
  };
  f.from_organisation_id.addEventListener("change", partners);
  partners();
  onSubmit(form, async () => {
    const professions = $$('input[name="profession"]:checked', form).map((i) => i.value);
    const errs = [];
    if (!professions.length) errs.push({ field: "professions", code: "required" });
    if (!f.valid_from.value) errs.push({ field: "valid_from", code: "required" });
    if (errs.length) return showProblem(form, { code: "validation_failed", errors: errs });
    const body = { from_organisation_id: f.from_organisation_id.value, to_organisation_id: f.to_organisation_id.value, professions, valid_from: f.valid_from.value };
    if (f.valid_until.value) body.valid_until = f.valid_until.value;
    const r = await api("/sharing-agreements", { method: "POST", body });
    if (!r.ok) return showProblem(form, await problemOf(r));
    flash(t("js.agreement_saved"));
    for (const i of $$('input[name="profession"]', form)) i.checked = false;
    reload();
  });
}

// --- everyone ----------------------------------------------------------------

function pageProfile() {
  onSubmit($("#profile-form"), async (f, form) => {
    const r = await api("/me", { method: "PATCH", body: { name: f.name.value, language: f.language.value } });
    if (!r.ok) return showProblem(form, await problemOf(r));
    location.reload();
  });
  onSubmit($("#password-form"), async (f, form) => {
    if (!f.new_password.value) return showProblem(form, { code: "validation_failed", errors: [{ field: "password", code: "required" }] });
    const r = await api("/me/password", { method: "POST", body: { current_password: f.current_password.value, new_password: f.new_password.value } });
    if (!r.ok) {
      const p = await problemOf(r);
      for (const e of p.errors || []) if (e.field === "new_password") e.field = "password";
      return showProblem(form, p);
    }
    location.href = "/login";
  });
  onSubmit($("#registration-form"), async (f, form) => {
    if (!f.number.value.trim()) return showProblem(form, { code: "validation_failed", errors: [{ field: "number", code: "required" }] });
    const body = { register: f.register.value, number: f.number.value.trim() };
    if (f.expires_on.value) body.expires_on = f.expires_on.value;
    const r = await api("/me/registrations", { method: "POST", body });
    if (!r.ok) return showProblem(form, await problemOf(r));
    location.reload();
  });
  for (const b of $$(".remove-registration")) {
    b.addEventListener("click", async () => {
      const r = await api("/me/registrations/" + b.dataset.id, { method: "DELETE" });
      if (!r.ok) return flash(problemText(await problemOf(r)), true);
      location.reload();
    });
  }
  notificationPreferences($("#notify-form"));
  calendarFeed($("#calendar-feed"));
}

function notificationPreferences(form) {
  if (!form) return;
  const f = form.elements;
  const fill = (p) => {
    for (const sel of $$("select[data-kind]", form)) if (p.modes[sel.dataset.kind]) sel.value = p.modes[sel.dataset.kind];
    f.quiet_on.checked = !!p.quiet_hours;
    if (p.quiet_hours) { f.quiet_start.value = p.quiet_hours.start.slice(0, 5); f.quiet_end.value = p.quiet_hours.end.slice(0, 5); }
    f.digest_hour.value = String(p.digest_hour);
    $("#rate-note").textContent = t("js.rate_note", { n: p.rate_per_hour });
  };
  // Saving before the current choices arrived would overwrite them.
  const save = $("button[type=submit]", form);
  save.disabled = true;
  loadJson("/me/notification-preferences").then((p) => { fill(p); save.disabled = false; }, (p) => showProblem(form, p));
  onSubmit(form, async () => {
    const modes = {};
    for (const sel of $$("select[data-kind]", form)) modes[sel.dataset.kind] = sel.value;
    const body = { modes, digest_hour: parseInt(f.digest_hour.value, 10), quiet_hours: f.quiet_on.checked ? { start: f.quiet_start.value, end: f.quiet_end.value } : null };
    const r = await api("/me/notification-preferences", { method: "PUT", body });
    if (!r.ok) return showProblem(form, await problemOf(r));
    fill(await r.json());
    flash(t("js.preferences_saved"));
  });
}

// The private calendar feed: the URL is shown once, when it is made.
function calendarFeed(box) {
  if (!box) return;
  const status = $("#feed-status"), make = $("#feed-make"), revoke = $("#feed-revoke"), link = $("#feed-link");
  const render = (v) => {
    status.textContent = v.active ? t("js.feed_active", { date: v.created_at ? v.created_at.slice(0, 10) : "" }) : t("js.feed_none");
    make.textContent = v.active ? t("js.feed_new") : t("js.feed_make");
    revoke.hidden = !v.active;
    link.hidden = !v.url;
    if (v.url) { $("#feed-url").value = v.url; $("#feed-url").select(); }
  };
  loadJson("/me/calendar-feed").then(render, (p) => { status.textContent = problemText(p); });
  make.addEventListener("click", async () => {
    const r = await api("/me/calendar-feed", { method: "POST" });
    if (!r.ok) return flash(problemText(await problemOf(r)), true);
    render(await r.json());
  });
  revoke.addEventListener("click", async () => {
    const r = await api("/me/calendar-feed", { method: "DELETE" });
    if (!r.ok) return flash(problemText(await problemOf(r)), true);
    render({ active: false });
    flash(t("js.feed_revoked"));
  });
}

const pages = {
  invitation: pageInvitation, "password-reset": pagePasswordReset, practice: pagePractice, call: pageCall,
  favourites: pageFavourites, staff: pageStaff, hours: pageHours, secondments: pageSecondments, worker: pageWorker,
  availability: pageAvailability, region: pageRegion, profile: pageProfile,
};

document.addEventListener("DOMContentLoaded", () => {
  const run = pages[config.page];
  if (run) run();
});
