// Personeelsbank web app script: signs in against the JSON API and renders
// the signed-in overview. Tokens live in sessionStorage (gone when the tab
// closes); the refresh token is rotated by the server on every use.
"use strict";

const store = {
  get access() { return sessionStorage.getItem("pb.access"); },
  get refresh() { return sessionStorage.getItem("pb.refresh"); },
  save(t) { sessionStorage.setItem("pb.access", t.access_token); sessionStorage.setItem("pb.refresh", t.refresh_token); },
  clear() { sessionStorage.removeItem("pb.access"); sessionStorage.removeItem("pb.refresh"); },
};

const messages = {
  invalid_credentials: "E-mailadres of wachtwoord klopt niet.",
  password_too_short: "Kies een wachtwoord van minstens 12 tekens.",
  password_too_common: "Dit wachtwoord is te makkelijk te raden. Kies een langere zin.",
  invitation_not_found: "Deze uitnodiging is niet meer geldig.",
  invalid_json: "Vul alle velden in.",
};

function problemText(p) {
  const code = (p.errors && p.errors[0] && p.errors[0].code) || p.code;
  return messages[code] || p.title || "Er ging iets mis.";
}

async function api(path, options = {}) {
  const headers = { "Content-Type": "application/json", ...(options.headers || {}) };
  if (store.access) headers.Authorization = "Bearer " + store.access;
  let res = await fetch("/api/v1" + path, { ...options, headers });
  if (res.status === 401 && store.refresh && path !== "/auth/refresh") {
    const r = await fetch("/api/v1/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: store.refresh }) });
    if (r.ok) { store.save(await r.json()); return api(path, options); }
    store.clear();
  }
  return res;
}

function showError(el, text) { el.textContent = text; el.hidden = false; }

function el(tag, text) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; return e; }

async function onLogin(ev) {
  ev.preventDefault();
  const form = ev.target, err = document.getElementById("login-error");
  err.hidden = true;
  const body = { email: form.email.value, password: form.password.value };
  if (!body.email || !body.password) return showError(err, "Vul je e-mailadres en wachtwoord in.");
  const res = await api("/auth/login", { method: "POST", body: JSON.stringify(body) });
  if (!res.ok) return showError(err, problemText(await res.json()));
  store.save(await res.json());
  location.href = "/app";
}

async function renderMe() {
  const box = document.getElementById("me");
  if (!store.access) { location.href = "/login"; return; }
  const res = await api("/me");
  if (!res.ok) { location.href = "/login"; return; }
  const me = await res.json();
  box.replaceChildren();
  box.append(el("p", `Ingelogd als ${me.name} (${me.email})`));
  const list = el("ul");
  for (const m of me.memberships) {
    list.append(el("li", [m.role, m.organisation_name, m.practice_name].filter(Boolean).join(" – ")));
  }
  box.append(el("h2", "Rollen"), list);
}

async function onLogout() {
  if (store.refresh) await api("/auth/logout", { method: "POST", body: JSON.stringify({ refresh_token: store.refresh }) });
  store.clear();
  location.href = "/login";
}

async function onAcceptInvitation(ev) {
  ev.preventDefault();
  const form = ev.target, err = document.getElementById("invitation-error");
  err.hidden = true;
  const token = new URLSearchParams(location.search).get("token") || "";
  const res = await api("/auth/invitations/accept", { method: "POST", body: JSON.stringify({ token, name: form.name.value, password: form.password.value }) });
  if (!res.ok) return showError(err, problemText(await res.json()));
  store.save(await res.json());
  location.href = "/app";
}

document.addEventListener("DOMContentLoaded", () => {
  const login = document.getElementById("login-form");
  if (login) login.addEventListener("submit", onLogin);
  if (document.getElementById("me")) renderMe();
  const logout = document.getElementById("logout");
  if (logout) logout.addEventListener("click", onLogout);
  const inv = document.getElementById("invitation-form");
  if (inv) inv.addEventListener("submit", onAcceptInvitation);
});
