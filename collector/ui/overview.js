// The manager's overview: fleet health, the open backlog by priority, what breaches
// soon, created vs resolved per day, MTTR / time to own and deflection per week, top
// problems and devices gone quiet. Polled with ETags: redrawn only when it changed.
"use strict";
import { html, api, esc, dur, pct, hashQuery } from "./lib.js";
import { bars, lines } from "./chart.js";

function day(ms) { return new Date(ms).toISOString().slice(5, 10); }

function tile(label, value, href, cls = "") {
  return html`<a class="tile ${cls}" href="${esc(href)}"><span class="n">${esc(value)}</span><span>${esc(label)}</span></a>`;
}

/** Draws the overview into `main`; returns a poller that redraws on change. */
export async function overview(main) {
  const q = hashQuery();
  const days = q.get("days") === "90" ? 90 : 30;
  const url = `/api/v1/reports/overview?days=${days}`;
  const draw = o => {
    const h = o.health;
    const prio = ["P1", "P2", "P3", "P4"].map(p => tile(`open ${p}`, o.open_by_priority[p] ?? 0, `#/tickets?open=true&priority=${p}`, p === "P1" && o.open_by_priority[p] ? "bad" : ""));
    const weeks = o.weekly.map(w => day(w.week_ms));
    main.innerHTML = html`<section><h2>Fleet <span class="muted">(${o.devices} devices)</span></h2><div class="tiles" id="fleet">
      ${tile("healthy", h.healthy ?? 0, "#/devices?health=healthy", "good")}
      ${tile("warning", h.warning ?? 0, "#/devices?health=warning", "warn")}
      ${tile("failing", h.failing ?? 0, "#/devices?health=failing", "bad")}
      ${tile("unknown", h.unknown ?? 0, "#/devices?health=unknown")}
      ${tile(html`offline (> ${dur(o.offline_threshold_s)})`, o.offline, html`#/devices?last_seen_older_than_s=${o.offline_threshold_s}`)}
      ${tile(html`not seen for ${o.stale_days} days`, o.stale, html`#/devices?last_seen_older_than_s=${o.stale_days * 86400}`)}
      </div></section>
      <section><h2>Tickets <span class="muted">(${o.open_tickets} open)</span></h2><div class="tiles" id="backlog">${prio}
      ${tile("breaching within 4 h", o.breaching_soon, "#/tickets?open=true&sort=due", o.breaching_soon ? "warn" : "")}
      ${tile("breached", o.breached, "#/tickets?open=true&breached=true", o.breached ? "bad" : "")}</div></section>
      <p class="range">Showing the last <a href="#/overview?days=30" ${days === 30 ? html`aria-current="page"` : ""}>30 days</a> ·
        <a href="#/overview?days=90" ${days === 90 ? html`aria-current="page"` : ""}>90 days</a></p>
      <div class="charts">
      <div id="chart-volume">${bars("Tickets created and resolved per day", o.daily.map(d => day(d.day_ms)),
        [{ name: "created", values: o.daily.map(d => d.created) }, { name: "resolved", values: o.daily.map(d => d.resolved) }])}</div>
      <div id="chart-mttr">${lines("Mean time to resolve and to own per week (hours)", weeks,
        [{ name: "time to resolve", values: o.weekly.map(w => w.mttr_s == null ? null : w.mttr_s / 3600) },
         { name: "time to own", values: o.weekly.map(w => w.time_to_own_s == null ? null : w.time_to_own_s / 3600) }], v => v.toFixed(1))}</div>
      <div id="chart-deflection">${lines("Deflection rate per week (fixed by the agent, no ticket)", weeks,
        [{ name: "deflection", values: o.weekly.map(w => w.deflection_rate == null ? null : w.deflection_rate * 100) }], v => html`${Math.round(v)}%`, 100)}</div>
      </div>
      <section><h2>Top problems</h2>${o.top_problems.length ? html`<ol class="problems">${o.top_problems.map(([k, n]) =>
        html`<li><a href="#/tickets?problem_key=${encodeURIComponent(k)}"><code>${esc(k)}</code></a> — ${n} tickets</li>`)}</ol>` : html`<p class="muted">No tickets in this window.</p>`}
      <p class="muted">Deflection this window: ${pct(rate(o))}. Updated ${new Date(o.at_ms).toLocaleTimeString()}.</p></section>`;
  };
  const first = await api(url, { poll: "fresh" });
  draw(first);
  return async () => {
    const o = await api(url, { poll: true });
    if (o) draw(o);
  };
}

function rate(o) {
  const d = o.weekly.reduce((n, w) => n + w.deflected, 0), a = o.weekly.reduce((n, w) => n + w.agent_tickets, 0);
  return d + a ? d / (d + a) : null;
}
