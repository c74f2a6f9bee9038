// Charts drawn as SVG markup made with `html` (no library): grouped bars and lines over labelled
// points, with axes, a legend and a text alternative for screen readers.
"use strict";
import { html, cat, esc } from "./lib.js";

const W = 640, H = 260, L = 56, R = 12, T = 14, B = 40;

/** A round axis maximum; small counts get 4 whole steps (0, 1, 2, 3, 4). */
function niceMax(v) {
  if (v <= 4) return 4;
  if (v <= 20) return 4 * Math.ceil(v / 4);
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(labels, max, fmt, title) {
  const ih = H - T - B, iw = W - L - R;
  const g = [html`<title>${title}</title>`];
  for (let i = 0; i <= 4; i++) {
    const y = T + ih - (ih * i) / 4;
    g.push(html`<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" class="grid"/>`);
    g.push(html`<text x="${L - 6}" y="${y + 4}" text-anchor="end" class="tick">${esc(fmt((max * i) / 4))}</text>`);
  }
  const step = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((l, i) => {
    if (i % step) return;
    const x = L + (iw * (i + 0.5)) / labels.length;
    g.push(html`<text x="${x}" y="${H - B + 16}" text-anchor="middle" class="tick">${esc(l)}</text>`);
  });
  return g;
}

function legend(series) {
  return html`<div class="legend">${series.map((s, i) => html`<span><i class="swatch s${i}"></i>${esc(s.name)}</span>`)}</div>`;
}

/** Grouped bars: `series` = [{name, values}], one value per label. */
export function bars(title, labels, series, fmt = v => String(Math.round(v))) {
  const max = niceMax(Math.max(0, ...series.flatMap(s => s.values)));
  const ih = H - T - B, iw = W - L - R, slot = iw / Math.max(1, labels.length);
  const bw = Math.max(1, (slot * 0.8) / series.length);
  const g = frame(labels, max, fmt, title);
  series.forEach((s, si) => s.values.forEach((v, i) => {
    const h = (ih * v) / max, x = L + slot * i + slot * 0.1 + bw * si;
    g.push(html`<rect x="${x.toFixed(1)}" y="${(T + ih - h).toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" class="s${si}"><title>${esc(labels[i])} ${esc(s.name)}: ${esc(fmt(v))}</title></rect>`);
  }));
  return figure(title, g, labels, series, fmt);
}

/** Lines with dots: `series` = [{name, values}], a null value is a gap; `fixedMax`
 * pins the axis (100 for percentages). */
export function lines(title, labels, series, fmt = v => String(Math.round(v)), fixedMax) {
  const max = fixedMax || niceMax(Math.max(0, ...series.flatMap(s => s.values.filter(v => v != null))));
  const ih = H - T - B, iw = W - L - R;
  const x = i => L + (iw * (i + 0.5)) / Math.max(1, labels.length);
  const y = v => T + ih - (ih * v) / max;
  const g = frame(labels, max, fmt, title);
  series.forEach((s, si) => {
    let d = "", pen = "M";
    s.values.forEach((v, i) => {
      if (v == null) { pen = "M"; return; }
      d += `${pen}${x(i).toFixed(1)},${y(v).toFixed(1)} `; pen = "L";
      g.push(html`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" class="s${si}"><title>${esc(labels[i])} ${esc(s.name)}: ${esc(fmt(v))}</title></circle>`);
    });
    if (d) g.splice(1, 0, html`<path d="${d}" class="line s${si}"/>`);
  });
  return figure(title, g, labels, series, fmt);
}

function figure(title, g, labels, series, fmt) {
  // the same numbers as a table for screen readers and for copying
  const rows = labels.map((l, i) => html`<tr><th scope="row">${esc(l)}</th>${series.map(s => html`<td>${s.values[i] == null ? "-" : esc(fmt(s.values[i]))}</td>`)}</tr>`);
  return cat(html`<figure class="chart"><figcaption>${esc(title)}</figcaption>`,
    html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}" preserveAspectRatio="xMidYMid meet">${g}</svg>`,
    legend(series),
    html`<details><summary>Numbers</summary><table class="data"><thead><tr><th></th>${series.map(s => html`<th>${esc(s.name)}</th>`)}</tr></thead><tbody>${rows}</tbody></table></details></figure>`);
}
