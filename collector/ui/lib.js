// Shared helpers of the console: the API client (session cookie + CSRF header),
// escaping, formatting in decimal units, tables and small widgets. No third-party code.
"use strict";

/** Who is signed in: {user, csrf_token} from GET /api/v1/session, or null. */
export const session = { info: null };

/** An API error with the server's code and message. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** Remembered ETags of polled answers: url → {tag, body}. */
const tags = new Map();

/**
 * Calls the API. `opts.body` is sent as JSON; every change carries the session's CSRF
 * token. With `opts.poll: true`, an unchanged answer since the last call (304) resolves
 * to `null`; `opts.poll: "fresh"` starts such a series (always answers).
 */
export async function api(path, opts = {}) {
  const method = opts.method || "GET";
  const headers = { Accept: "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && session.info) headers["X-CSRF-Token"] = session.info.csrf_token;
  const known = opts.poll === true ? tags.get(path) : null;
  if (known) headers["If-None-Match"] = known.tag;
  const r = await fetch(path, {
    method, headers, credentials: "same-origin", cache: "no-store",
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  if (r.status === 304 && known) return null;
  const body = await r.json().catch(() => ({}));
  if (!r.ok) {
    const e = body.error || {};
    if (r.status === 401 && !opts.quiet401) window.dispatchEvent(new Event("tend-signed-out"));
    throw new ApiError(r.status, e.code || `http_${r.status}`, e.message || `HTTP ${r.status}`, e.field);
  }
  if (opts.poll && r.headers.get("ETag")) tags.set(path, { tag: r.headers.get("ETag") });
  return body;
}

// Escape by default: markup is built only with the `html` tagged template, whose
// interpolations are escaped unless they are markup made the same way (an `Html`), a
// list of those, or nothing. Device-reported values can never become markup, however
// they are built; `tidy` fails on any untagged template literal that holds markup.
const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
function escText(s) { return String(s ?? "").replace(/[&<>"']/g, c => ESC[c]); }
/** Markup known to be safe: made by `html`, `cat` or `esc`. */
export class Html {
  constructor(s) { this.s = s; }
  toString() { return this.s; }
}
function render(v) {
  if (v instanceof Html) return v.s;
  if (Array.isArray(v)) return v.map(render).join("");
  if (v == null || v === false) return "";
  return escText(v);
}
/** The one way to make markup: `html\`<p>${text}</p>\``, every `${…}` escaped. */
export function html(strings, ...values) {
  let s = strings[0];
  values.forEach((v, i) => { s += render(v) + strings[i + 1]; });
  return new Html(s);
}
/** Pieces one after the other: markup kept, anything else escaped. */
export function cat(...parts) { return new Html(parts.map(render).join("")); }
/** `items` with `sep` between them (markup kept, text escaped). */
export function joined(items, sep) { return cat(...items.flatMap((x, i) => i ? [sep, x] : [x])); }
/** Text escaped for markup (an `Html`; markup already made stays as it is). */
export function esc(s) { return s instanceof Html ? s : new Html(escText(s)); }
/** A count or measurement as text: whatever a device sent, a number or "?". */
export function num(v, digits) {
  const n = Number(v);
  if (v == null || v === "" || !Number.isFinite(n)) return "?";
  return digits == null ? String(n) : n.toFixed(digits);
}
export function when(ms) { return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 16) + "Z" : "-"; }
export function ago(ms) {
  if (!ms) return "never";
  const s = Math.max(0, (Date.now() - ms) / 1000);
  return s < 60 ? `${Math.round(s)}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : s < 86400 ? `${Math.round(s / 3600)}h ago` : `${Math.round(s / 86400)}d ago`;
}
/** A duration in words: 45m, 3.2h, 1.5d. */
export function dur(sec) {
  if (sec == null) return "-";
  const a = Math.abs(sec);
  const t = a < 3600 ? `${Math.round(a / 60)}m` : a < 86400 ? `${(a / 3600).toFixed(1)}h` : `${(a / 86400).toFixed(1)}d`;
  return sec < 0 ? `-${t}` : t;
}
/** Decimal units, as everywhere in Tend: "3.1 GB" (a device's non-number is "?"). */
export function bytes(v) {
  if (v == null) return "-";
  const b = Number(v);
  if (!Number.isFinite(b)) return "?";
  return b >= 1e12 ? (b / 1e12).toFixed(1) + " TB" : b >= 1e9 ? (b / 1e9).toFixed(1) + " GB" : b >= 1e6 ? (b / 1e6).toFixed(1) + " MB" : b >= 1e3 ? (b / 1e3).toFixed(0) + " kB" : `${b} B`;
}
export function pct(r) { return r == null ? "-" : `${Math.round(r * 100)}%`; }
export function pill(v, label) { return html`<span class="pill ${esc(v)}">${esc(label ?? String(v).replace(/_/g, " "))}</span>`; }
export function words(s) { return String(s ?? "").replace(/_/g, " "); }

/** A table; `rows` are arrays of HTML cells; `link(i)` makes row i a link target. */
export function table(headers, rows, link) {
  if (!rows.length) return html`<p class="muted">Nothing here.</p>`;
  const head = headers.map(h => html`<th scope="col">${h}</th>`);
  const body = rows.map((r, i) => {
    const href = link ? link(i) : null;
    const cells = r.map((c, j) => j === 0 && href ? html`<td><a href="${esc(href)}">${c}</a></td>` : html`<td>${c}</td>`);
    return html`<tr>${cells}</tr>`;
  });
  return html`<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** The query part of the current hash (`#/tickets?open=true` → URLSearchParams). */
export function hashQuery() { return new URLSearchParams(location.hash.split("?")[1] || ""); }

/** A "next page" link (the server pages with cursors). */
export function more(page, base, q) {
  if (!page.next) return "";
  const n = new URLSearchParams(q); n.set("cursor", page.next);
  return html`<p><a class="more" href="${base}?${esc(n.toString())}">Next page →</a></p>`;
}

/** Shows an error under `el` (or replaces its message). */
export function showError(el, e) {
  el.innerHTML = html`<p class="err" role="alert">${esc(e.message)}</p>`;
}

/** Runs `fn` on submit of `form`, with its fields as an object; errors land in `.form-err`. */
export function onSubmit(form, fn) {
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    const out = form.querySelector(".form-err");
    if (out) out.textContent = "";
    const button = form.querySelector("button[type=submit], button:not([type])");
    if (button) button.disabled = true;
    try {
      await fn(Object.fromEntries(new FormData(form).entries()), form);
    } catch (e) {
      if (out) out.textContent = e.message; else alert(e.message);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

/** The signed-in user's role allows `role` (viewer < analyst < admin). */
export function can(role) {
  const order = ["viewer", "analyst", "admin"];
  const mine = session.info ? order.indexOf(session.info.user.role) : -1;
  return mine >= order.indexOf(role);
}

/** Waits for a job to finish (polling its state), then returns it. */
export async function waitJob(id, onState) {
  for (;;) {
    const j = await api(`/api/v1/jobs/${encodeURIComponent(id)}?wait=20`);
    if (onState) onState(j);
    if (!["queued", "delivered", "running"].includes(j.state)) return j;
  }
}
