/*
 * dom.js: how the dashboard's pages (app.js and the page modules) build elements and show numbers: h()
 * builds an element from attributes and children (strings become text nodes, never HTML), table() a
 * captioned table, and num / when / yesNo format a number, a date and a yes/no flag.
 */

/** h: an element with attributes (on* attributes become listeners) and children (strings become text). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'className') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export const num = (v, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en') : v.toFixed(digits)) : String(v));
// A date that does not parse (a hand-written report) is shown as written, never thrown on.
export const when = (iso) => {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
};
export const yesNo = (ok, yes, no) => h('span', { className: ok ? 'ok' : 'bad' }, ok ? yes : no);

export function table(head, rows, caption, className) {
  return h('table', { className },
    caption ? h('caption', { className: 'muted' }, caption) : null,
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))));
}

/** GiB: bytes in a gibibyte (the Workloads and Replay pages show memory in GiB). */
export const GiB = 2 ** 30;
