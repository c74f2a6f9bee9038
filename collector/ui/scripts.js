// Scripts: the registry, submitting a new script or version, reviewing its body and
// approving it as a second, independent admin (the page says who submitted and who may
// approve), and revoking. Releases: rollout stages, promote / pause / resume, halts.
"use strict";
import { html, cat, api, esc, when, pill, words, table, onSubmit, can, session } from "./lib.js";

export async function scripts(main) {
  const list = await api("/api/v1/scripts");
  main.innerHTML = html`<section><h2>Scripts</h2>` +
    table(["Name", "Version", "Status", "Interpreter", "Platforms", "Submitted by", "Approved by"],
      list.map(s => [esc(s.name), `v${s.version}`, pill(s.status), esc(s.interpreter), esc(s.platforms.join(", ") || "any"), esc(s.submitted_by), esc(s.approved_by || "-")]),
      i => `#/script/${list[i].id}`) + "</section>" +
    (can("admin") ? html`<section><h2>Submit a script</h2><form id="submit-script" class="stack">
      <label>Name <input name="name" required maxlength="100" placeholder="clear-tmp"></label>
      <label>Interpreter <select name="interpreter"><option>sh</option><option>bash</option><option>zsh</option><option>python3</option></select></label>
      <label>Runs as <select name="run_as"><option value="root">root</option><option value="console_user">the signed-in user</option></select></label>
      <label>Timeout (s) <input name="timeout_s" type="number" min="1" max="3600" value="60"></label>
      <fieldset><legend>Platforms</legend><label><input type="checkbox" name="linux" checked> Linux</label> <label><input type="checkbox" name="macos" checked> macOS</label></fieldset>
      <label>Description <input name="description" size="60"></label>
      <label for="script-body">Body</label><textarea id="script-body" name="body" rows="8" required spellcheck="false"></textarea>
      <p><button type="submit">Submit for approval</button> <span class="form-err err" role="alert"></span></p></form></section>` : "");
  const form = main.querySelector("#submit-script");
  if (form) onSubmit(form, async f => {
    const platforms = ["linux", "macos"].filter(p => f[p]);
    const s = await api("/api/v1/scripts", { method: "POST", body: {
      name: f.name.trim(), interpreter: f.interpreter, body: f.body, run_as: f.run_as,
      timeout_s: Number(f.timeout_s), platforms, description: f.description } });
    location.hash = `#/script/${s.id}`;
  });
}

export async function script(main, id) {
  const versions = await api(`/api/v1/scripts/${encodeURIComponent(id)}`);
  const latest = versions[versions.length - 1];
  const me = session.info.user;
  const pending = latest.status === "pending_approval";
  const mine = latest.submitted_by_id === me.id;
  let approve = "";
  if (pending && can("admin")) {
    approve = mine
      ? html`<p id="approve-note" class="warn-box">You submitted this version, so you cannot approve it: a different admin, one you did not create, must review and approve it.</p><button type="button" id="approve" disabled>Approve</button>`
      : html`<p id="approve-note">Submitted by ${esc(latest.submitted_by)}. Read the body above; approving signs it for every device it is run on.</p><button type="button" id="approve">Approve and sign v${latest.version}</button>`;
  } else if (pending) {
    approve = html`<p id="approve-note">Waiting for an admin other than ${esc(latest.submitted_by)} to approve.</p>`;
  }
  main.innerHTML = html`<section><h2 id="script-title">${esc(latest.name)} v${latest.version} ${pill(latest.status)}</h2><dl>
    <dt>Interpreter</dt><dd>${esc(latest.interpreter)}, runs as ${esc(words(latest.run_as))}, timeout ${latest.timeout_s} s</dd>
    <dt>Platforms</dt><dd>${esc(latest.platforms.join(", ") || "any")}</dd><dt>Description</dt><dd>${esc(latest.description || "-")}</dd>
    <dt>Submitted</dt><dd>${esc(latest.submitted_by)} at ${esc(when(latest.submitted_at_ms))}</dd>
    <dt>Approved</dt><dd>${latest.approved_by ? html`${esc(latest.approved_by)} at ${esc(when(latest.approved_at_ms))}` : "not yet"}</dd>
    <dt>SHA-256</dt><dd><code>${esc(latest.body_sha256)}</code></dd></dl>
    <h3>Body</h3><pre class="output" id="script-body-view">${esc(latest.body)}</pre>
    <div class="actions">${approve} ${can("admin") && latest.status !== "revoked" ? html`<button type="button" id="revoke">Revoke</button>` : ""} <span class="err" id="script-err" role="alert"></span></div></section>
    <section><h2>Versions</h2>` + table(["Version", "Status", "Submitted by", "Approved by", "SHA-256"], versions.slice().reverse().map(v => [`v${v.version}`, pill(v.status), esc(v.submitted_by), esc(v.approved_by || "-"), html`<code>${esc(v.body_sha256.slice(0, 16))}…</code>`])) + "</section>";
  const err = e => { main.querySelector("#script-err").textContent = e.message; };
  const a = main.querySelector("#approve");
  if (a && !a.disabled) a.addEventListener("click", () => api(`/api/v1/scripts/${encodeURIComponent(id)}/approve`, { method: "POST", body: {} }).then(() => script(main, id), err));
  const r = main.querySelector("#revoke");
  if (r) r.addEventListener("click", () => {
    if (confirm(`Revoke ${latest.name}? Queued runs are refused.`)) api(`/api/v1/scripts/${encodeURIComponent(id)}/revoke`, { method: "POST", body: {} }).then(() => script(main, id), err);
  });
}

function rolloutState(r) {
  return r.rollout.halted ? "halted" : r.rollout.paused ? "paused" : r.rollout.percent === 0 ? "not started" : r.rollout.percent === 100 ? "everywhere" : "rolling out";
}

export async function releases(main) {
  const list = await api("/api/v1/releases");
  const admin = can("admin");
  main.innerHTML = cat(html`<section><h2>Agent releases</h2>`, list.length ? list.map(r => {
    const next = [1, 5, 25, 50, 100].find(p => p > r.rollout.percent);
    const buttons = !admin ? "" : !r.approved_by ? html`<button type="button" data-v="${esc(r.version)}" data-act="approve">Approve (second admin)</button>` :
      r.rollout.halted ? html`<span class="muted">Halted releases stay halted; publish a fixed version.</span>` :
      html`${next ? html`<button type="button" data-v="${esc(r.version)}" data-act="promote" data-p="${next}">Promote to ${next}%</button>` : ""}
       <button type="button" data-v="${esc(r.version)}" data-act="${r.rollout.paused ? "resume" : "pause"}">${r.rollout.paused ? "Resume" : "Pause"}</button>`;
    return cat(html`<article class="release"><h3>${esc(r.version)} ${pill(rolloutState(r).replace(" ", "_"), rolloutState(r))} <span class="muted">${r.rollout.percent}% of the fleet</span></h3>
      <p>Built for ${esc(r.artifacts.map(a => a.platform).join(", "))}; uploaded by ${esc(r.created_by)} ${esc(when(r.created_at_ms))}; ${r.approved_by ? html`approved by ${esc(r.approved_by)}` : "not approved yet"}.
      Halts when more than ${r.rollout.failure_threshold_pct}% of at least ${r.rollout.min_sample} updates in a stage fail.</p>
      ${r.rollout.halt_reason ? html`<p class="err">Halted: ${esc(r.rollout.halt_reason)}</p>` : ""}`,
      table(["Stage", "Started", "Attempted", "Updated", "Failed"], r.rollout.stages.map(s => [`${s.percent}%`, esc(when(s.started_at_ms)), String(s.attempted), String(s.succeeded), String(s.failed)])),
      html`<p>${buttons} <span class="err" role="alert"></span></p></article>`);
  }) : html`<p class="muted">No release uploaded (tendctl release upload).</p>`, html`</section>`);
  main.querySelectorAll("button[data-act]").forEach(b => b.addEventListener("click", async () => {
    const v = encodeURIComponent(b.dataset.v), act = b.dataset.act;
    try {
      if (act === "approve") await api(`/api/v1/releases/${v}/approve`, { method: "POST", body: {} });
      else await api(`/api/v1/releases/${v}/rollout`, { method: "POST", body: act === "promote" ? { percent: Number(b.dataset.p) } : { paused: act === "pause" } });
      await releases(main);
    } catch (e) { b.parentElement.querySelector(".err").textContent = e.message; }
  }));
}
