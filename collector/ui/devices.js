// Devices: the server-side searched and paged list, and the device page with health,
// inventory (searchable software), events, tickets, job history and asset, plus the
// actions: a diagnostic (form from the typed catalogue), an approved script, decommission.
"use strict";
import { html, api, esc, when, ago, bytes, pill, words, table, hashQuery, more, onSubmit, can, waitJob, cat, joined } from "./lib.js";
import { renderResult } from "./results.js";

function updateText(u) { return u ? `${u.target_version} ${words(u.state)}` : "-"; }

export async function devices(main) {
  const q = hashQuery();
  const page = await api("/api/v1/devices?" + q.toString());
  const list = page.items;
  const opt = (name, label, values) => html`<label>${label} <select data-f="${name}"><option value="">any</option>${values.map(v => html`<option ${q.get(name) === v ? "selected" : ""}>${v}</option>`)}</select></label>`;
  main.innerHTML = html`<section><h2>Devices</h2>
    <form id="device-search" class="filters" role="search">
      <label>Search <input name="q" id="device-q" type="search" value="${esc(q.get("q") || "")}" placeholder="hostname, serial, owner or id" size="30"></label>
      ${opt("health", "Health", ["healthy", "warning", "failing", "unknown"])}${opt("platform", "Platform", ["linux", "macos"])}
      <label>Not seen for <select data-f="last_seen_older_than_s"><option value="">any time</option>${[[3600, "1 hour"], [86400, "1 day"], [604800, "7 days"], [2592000, "30 days"]].map(([s, l]) => html`<option value="${s}" ${q.get("last_seen_older_than_s") === String(s) ? "selected" : ""}>${l}</option>`)}</select></label>
      <label>Sort <select data-f="sort">${[["", "by id"], ["hostname", "by hostname"], ["recent", "last seen, newest"], ["silent", "last seen, oldest"]].map(([v, l]) => html`<option value="${v}" ${(q.get("sort") || "") === v ? "selected" : ""}>${l}</option>`)}</select></label>
      <button>Search</button></form>
    <p class="muted">${list.length}${page.next ? "+" : ""} shown</p>` +
    table(["Hostname", "Health", "OS", "Last seen", "Serial", "Owner", "Agent", "Update"],
      list.map(d => [esc(d.hostname), pill(d.health), esc(d.os), esc(ago(d.last_seen_ms)), esc(d.serial || "-"), esc(d.owner || "-"), esc(d.agent_version), esc(updateText(d.update))]),
      i => `#/device/${list[i].id}`) + more(page, "#/devices", q) + "</section>";
  const form = main.querySelector("#device-search");
  const go = () => {
    const n = new URLSearchParams();
    const text = form.q.value.trim();
    if (text) n.set("q", text);
    form.querySelectorAll("select").forEach(s => { if (s.value) n.set(s.dataset.f, s.value); });
    location.hash = "#/devices?" + n.toString();
  };
  form.addEventListener("submit", ev => { ev.preventDefault(); go(); });
  form.querySelectorAll("select").forEach(s => s.addEventListener("change", go));
}

function argInput(d, a) {
  const id = `arg-${d.name}-${a.name}`;
  const req = a.required ? "required" : "";
  let input;
  if (a.kind === "choice") input = html`<select id="${id}" name="${esc(a.name)}" ${req}>${a.choices.map(c => html`<option ${c === a.default ? "selected" : ""}>${esc(c)}</option>`)}</select>`;
  else if (a.kind === "number") input = html`<input id="${id}" name="${esc(a.name)}" type="number" min="1" value="${esc(a.default || "")}" ${req}>`;
  else input = html`<input id="${id}" name="${esc(a.name)}" type="${a.kind === "url" ? "url" : "text"}" value="${esc(a.default || "")}" ${req} size="28">`;
  return html`<label for="${id}">${esc(a.name)}</label>${input}<small class="muted">${esc(a.help)}</small>`;
}

function jobRow(j) {
  const what = j.spec.type === "diagnostic" ? `${j.spec.name} ${(j.spec.args || []).join(" ")}` : `script ${j.spec.script_id} v${j.spec.version}`;
  const exit = j.result && j.result.exit_code != null ? j.result.exit_code : "-";
  return [esc(when(j.created_at_ms)), html`<a href="#/job/${esc(j.id)}">${esc(what)}</a>`, pill(j.state), esc(exit), esc(j.created_by)];
}

export async function device(main, id) {
  const [d, jobs] = await Promise.all([
    api(`/api/v1/devices/${encodeURIComponent(id)}`),
    api(`/api/v1/devices/${encodeURIComponent(id)}/jobs?limit=20`),
  ]);
  const s = d.device, inv = d.inventory, a = d.asset;
  let out = html`<section><h2 id="device-title">${esc(s.hostname)} ${pill(s.health)}</h2><dl>
    <dt>Device</dt><dd><code>${esc(s.id)}</code> (${esc(s.platform)})</dd>
    <dt>OS</dt><dd>${esc(s.os)}</dd><dt>Serial</dt><dd>${esc(s.serial || "-")}</dd><dt>Owner</dt><dd>${esc(s.owner || "-")}</dd>
    <dt>Agent</dt><dd>${esc(s.agent_version)} · update ${esc(updateText(s.update))}</dd>
    <dt>Enrolled</dt><dd>${esc(when(s.enrolled_at_ms))}</dd><dt>Last seen</dt><dd>${esc(when(s.last_seen_ms))} (${esc(ago(s.last_seen_ms))})</dd>
    ${s.decommissioned_at_ms ? html`<dt>Decommissioned</dt><dd>${esc(when(s.decommissioned_at_ms))}</dd>` : ""}`;
  if (inv) out += html`<dt>Hardware</dt><dd>${esc([inv.hardware.vendor, inv.hardware.model].filter(Boolean).join(" ") || "-")}</dd>
    <dt>CPU</dt><dd>${esc(inv.cpu.model)} (${inv.cpu.logical_cores} threads)</dd><dt>Memory</dt><dd>${bytes(inv.memory.total_bytes)}</dd>
    <dt>Disks</dt><dd>${joined(inv.disks.map(x => html`${esc(x.mount)}: ${bytes(x.free_bytes)} free of ${bytes(x.total_bytes)}`), html`<br>`)}</dd>
    <dt>Users</dt><dd>${esc(inv.users.join(", ") || "-")}</dd><dt>Up</dt><dd>${Math.round(inv.uptime_s / 3600)} h</dd>`;
  if (a) out += html`<dt>Asset</dt><dd><a href="#/asset/${esc(a.id)}">${esc(a.id)}</a> ${pill(a.state)} · owner ${esc(a.owner || "-")} · ${esc(a.location || "-")}</dd>`;
  out += "</dl></section>";
  if (can("analyst") && !s.decommissioned_at_ms) {
    out += html`<section class="actions"><h2>Run a diagnostic</h2><form id="diag-form"><label for="diag-name">Diagnostic</label><select id="diag-name" name="name"></select>
      <div id="diag-args" class="args"></div><button type="submit" id="diag-run">Run</button> <span class="form-err err" role="alert"></span></form><div id="diag-result" aria-live="polite"></div>
      <h2>Run an approved script</h2><form id="script-form"><label for="script-id">Script</label><select id="script-id" name="script_id" required></select> <button type="submit" id="script-run">Run</button> <span class="form-err err" role="alert"></span></form><div id="script-result" aria-live="polite"></div>
      <h2>Decommission</h2><form id="decom-form"><p class="muted">Revokes the device's token, retires its asset and closes its open tickets.</p><label><input type="checkbox" name="sure" required> I mean it</label> <button type="submit">Decommission ${esc(s.hostname)}</button> <span class="form-err err" role="alert"></span></form></section>`;
  }
  out += html`<section><h2>Checks</h2>` + table(["Check", "Status", "Value", "Message"], d.health.map(c => [html`<code>${esc(c.id)}</code>`, pill(c.status), esc(typeof c.value === "object" ? JSON.stringify(c.value) : c.value), esc(c.message)])) + "</section>";
  out += html`<section><h2>Tickets</h2>` + table(["Ticket", "Status", "Problem", "Opened", "Summary"], d.tickets.map(t => [esc(t.id), pill(t.status), html`<code>${esc(t.problem_key)}</code>`, esc(ago(t.created_at_ms)), esc(t.summary)]), i => `#/ticket/${d.tickets[i].id}`) + "</section>";
  out += html`<section><h2>Jobs</h2><div id="job-history">` + table(["Queued", "What", "State", "Exit", "By"], jobs.items.map(jobRow)) + "</div></section>";
  out += html`<section><h2>Events</h2>` + table(["At", "Source", "Kind", "Message"], d.events.map(e => [esc(when(e.at_ms)), esc(e.source), esc(e.kind), esc(e.message)])) + "</section>";
  if (inv) out += html`<section><h2>Software (${inv.software.length})</h2><label>Filter <input id="sw-filter" type="search" placeholder="package name"></label><div id="sw-list"></div></section>`;
  main.innerHTML = out;

  if (inv) {
    const list = main.querySelector("#sw-list"), filter = main.querySelector("#sw-filter");
    const show = () => {
      const f = filter.value.trim().toLowerCase();
      const hits = inv.software.filter(p => !f || p.name.toLowerCase().includes(f));
      list.innerHTML = table(["Package", "Version", "Source"], hits.slice(0, 200).map(p => [esc(p.name), esc(p.version), esc(p.source)])) +
        (hits.length > 200 ? html`<p class="muted">${hits.length - 200} more; narrow the filter.</p>` : "");
    };
    filter.addEventListener("input", show);
    show();
  }
  if (!main.querySelector("#diag-form")) return;
  await wireActions(main, s);
}

async function wireActions(main, s) {
  const [catalogue, scripts] = await Promise.all([api("/api/v1/diagnostics"), api("/api/v1/scripts")]);
  const form = main.querySelector("#diag-form"), pick = form.querySelector("#diag-name"), args = form.querySelector("#diag-args");
  pick.innerHTML = cat(catalogue.map(c => html`<option value="${esc(c.name)}">${esc(c.name)} — ${esc(c.summary)}</option>`));
  const drawArgs = () => { const c = catalogue.find(x => x.name === pick.value); args.innerHTML = cat(c.args.map(a => argInput(c, a))); };
  pick.addEventListener("change", drawArgs);
  drawArgs();
  const refreshJobs = async () => {
    const jobs = await api(`/api/v1/devices/${encodeURIComponent(s.id)}/jobs?limit=20`);
    main.querySelector("#job-history").innerHTML = table(["Queued", "What", "State", "Exit", "By"], jobs.items.map(jobRow));
  };
  const run = async (out, path, body) => {
    const job = await api(path, { method: "POST", body });
    out.innerHTML = html`<p class="muted">Queued ${esc(job.id)}; waiting for ${esc(s.hostname)}…</p>`;
    const done = await waitJob(job.id, j => { out.querySelector("p").textContent = `${j.id}: ${words(j.state)}…`; });
    out.innerHTML = renderResult(done);
    await refreshJobs();
  };
  onSubmit(form, async fields => {
    const c = catalogue.find(x => x.name === fields.name);
    const values = c.args.map(a => (fields[a.name] || "").trim()).filter((v, i) => v || c.args[i].required);
    await run(main.querySelector("#diag-result"), `/api/v1/devices/${encodeURIComponent(s.id)}/diagnostics`, { name: c.name, args: values });
  });
  const sform = main.querySelector("#script-form"), approved = scripts.filter(x => x.status === "approved" && (!x.platforms.length || x.platforms.includes(s.platform)));
  sform.querySelector("#script-id").innerHTML = approved.length ? cat(approved.map(x => html`<option value="${esc(x.id)}">${esc(x.name)} v${x.version} (approved by ${esc(x.approved_by)})</option>`)) : html`<option value="">no approved script for ${esc(s.platform)}</option>`;
  onSubmit(sform, async f => {
    if (!f.script_id) throw new Error("No approved script to run.");
    await run(main.querySelector("#script-result"), `/api/v1/devices/${encodeURIComponent(s.id)}/scripts`, { script_id: f.script_id });
  });
  onSubmit(main.querySelector("#decom-form"), async () => {
    await api(`/api/v1/devices/${encodeURIComponent(s.id)}/decommission`, { method: "POST", body: {} });
    await device(main, s.id);
  });
}

/** `#/job/ID`: one job and its result. */
export async function job(main, id) {
  const j = await api(`/api/v1/jobs/${encodeURIComponent(id)}`);
  main.innerHTML = html`<section><h2>Job ${esc(j.id)}</h2><p><a href="#/device/${esc(j.device_id)}">back to the device</a></p>${renderResult(j)}</section>`;
}
