// Tend console: signs in with a password (session cookie, CSRF token for changes),
// routes `#/…` to a page module, and keeps the overview and ticket queue live by
// polling with ETags (an unchanged answer is a 304 and no redraw).
"use strict";
import { html, api, esc, when, session, ApiError, onSubmit } from "./lib.js";
import { overview } from "./overview.js";
import { devices, device, job } from "./devices.js";
import { tickets, ticket, problems } from "./tickets.js";
import { scripts, script, releases } from "./scripts.js";
import { policy, audit, assets, asset, kb } from "./admin.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let poller = null;
let generation = 0;

const routes = [
  [/^#\/overview/, m => overview(m)],
  [/^#\/devices/, m => devices(m)],
  [/^#\/device\/([^?]+)/, (m, id) => device(m, id)],
  [/^#\/job\/([^?]+)/, (m, id) => job(m, id)],
  [/^#\/tickets/, m => tickets(m)],
  [/^#\/ticket\/([^?]+)/, (m, id) => ticket(m, id)],
  [/^#\/problems/, m => problems(m)],
  [/^#\/scripts/, m => scripts(m)],
  [/^#\/script\/([^?]+)/, (m, id) => script(m, id)],
  [/^#\/releases/, m => releases(m)],
  [/^#\/policy/, m => policy(m)],
  [/^#\/audit/, m => audit(m)],
  [/^#\/assets/, m => assets(m)],
  [/^#\/kb/, m => kb(m)],
  [/^#\/asset\/([^?]+)/, (m, id) => asset(m, id)],
];

function signInPage(message) {
  nav.hidden = true;
  who.hidden = true;
  document.getElementById("notices").hidden = true;
  main.innerHTML = html`<section class="signin"><h2>Sign in</h2>
    <form id="signin-form" class="stack">
      <label>User name <input name="name" id="signin-name" autocomplete="username" required autofocus></label>
      <label>Password <input name="password" id="signin-password" type="password" autocomplete="current-password" required></label>
      <p><button type="submit" id="signin-submit">Sign in</button></p>
      <p class="form-err err" role="alert">${esc(message || "")}</p>
    </form></section>`;
  onSubmit(main.querySelector("#signin-form"), async f => {
    try {
      session.info = await api("/api/v1/session", { method: "POST", body: { name: f.name, password: f.password }, quiet401: true });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) throw new Error("Wrong user name or password.");
      throw e;
    }
    if (!location.hash || location.hash === "#/signin") location.hash = "#/overview";
    await route();
  });
}

/** Security notices every admin should see (a password another admin reset): a
 * banner over every page until they are a week old. */
function notices() {
  const box = document.getElementById("notices");
  const list = (session.info && session.info.notices) || [];
  box.hidden = !list.length;
  box.innerHTML = list.length
    ? html`<strong>Security notices</strong><ul>${list.map(n => html`<li><time>${when(n.at_ms)}</time> ${n.message}</li>`)}</ul>`
    : "";
}

function chrome() {
  nav.hidden = false;
  who.hidden = false;
  notices();
  document.getElementById("who-name").textContent = `${session.info.user.name} (${session.info.user.role})`;
  nav.querySelectorAll("[data-role=admin]").forEach(a => { a.hidden = session.info.user.role !== "admin"; });
  const h = location.hash.split("?")[0];
  nav.querySelectorAll("a").forEach(a => {
    const on = h.startsWith(a.getAttribute("href").replace(/s$/, ""));
    if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
}

async function route() {
  const mine = ++generation;
  poller = null;
  if (!session.info) {
    try {
      session.info = await api("/api/v1/session", { quiet401: true });
    } catch (e) {
      return signInPage(e.status === 401 ? "" : e.message);
    }
  }
  chrome();
  const h = location.hash || "#/overview";
  const hit = routes.find(([re]) => re.test(h));
  try {
    const [re, page] = hit || routes[0];
    const m = h.match(re);
    const p = await page(main, m && m[1] ? decodeURIComponent(m[1]) : undefined);
    if (mine === generation && typeof p === "function") poller = p;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    main.innerHTML = html`<p class="err" role="alert">${esc(e.message)}</p>`;
  }
}

window.addEventListener("tend-signed-out", () => {
  session.info = null;
  signInPage("Your session ended; sign in again.");
});
document.getElementById("sign-out").addEventListener("click", async () => {
  await api("/api/v1/session", { method: "DELETE" }).catch(() => {});
  session.info = null;
  signInPage("Signed out.");
});
window.addEventListener("hashchange", route);
// live pages: a light poll, every 5 s while the tab is visible
setInterval(() => {
  // not while someone is typing or choosing in the page
  const busy = main.contains(document.activeElement) && /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
  if (poller && !document.hidden && !busy) poller().catch(() => {});
}, 5000);
route();
