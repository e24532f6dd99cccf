/**
 * svg: tiny self-contained SVG charts (line, scatter) for the HTML reports; no scripts, no CDN.
 */
export interface Series {
  name: string;
  points: [number, number][];
  color: string;
  /** 'line' joins points; 'dots' draws markers */
  style?: 'line' | 'dots';
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** chart draws series on linear axes with ticks, labels and a legend. */
export function chart(title: string, xLabel: string, yLabel: string, series: Series[], opts: { width?: number; height?: number; diagonal?: boolean; logY?: boolean } = {}): string {
  const W = opts.width ?? 560;
  const H = opts.height ?? 340;
  const m = { l: 64, r: 16, t: 32, b: 48 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const ty = (y: number) => (opts.logY ? Math.log10(Math.max(y, 1e-9)) : y);
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => ty(p[1]))), Math.max(...all.map((p) => ty(p[1])))];
  if (!all.length) [x0, x1, y0, y1] = [0, 1, 0, 1];
  if (opts.diagonal) [x0, x1, y0, y1] = [Math.min(x0, y0), Math.max(x1, y1), Math.min(x0, y0), Math.max(x1, y1)];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((ty(y) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : +v.toPrecision(3) + '');
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}" style="font:12px sans-serif">`];
  parts.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const xv = x0 + ((x1 - x0) * i) / 4;
    const yv = y0 + ((y1 - y0) * i) / 4;
    const yy = H - m.b - (i / 4) * (H - m.t - m.b);
    parts.push(`<line x1="${sx(xv)}" y1="${H - m.b}" x2="${sx(xv)}" y2="${m.t}" stroke="#eee"/><text x="${sx(xv)}" y="${H - m.b + 16}" text-anchor="middle">${fmt(xv)}</text>`);
    parts.push(`<line x1="${m.l}" y1="${yy}" x2="${W - m.r}" y2="${yy}" stroke="#eee"/><text x="${m.l - 6}" y="${yy + 4}" text-anchor="end">${fmt(opts.logY ? 10 ** yv : yv)}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${W / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${H / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`);
  if (opts.diagonal) parts.push(`<line x1="${sx(x0)}" y1="${sy(opts.logY ? 10 ** y0 : y0)}" x2="${sx(x1)}" y2="${sy(opts.logY ? 10 ** y1 : y1)}" stroke="#aaa" stroke-dasharray="4 4"/>`);
  series.forEach((s, k) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (s.style === 'dots') {
      for (const [x, y] of pts) parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="${pts.length > 200 ? 1.5 : 5}" fill="${s.color}" fill-opacity="${pts.length > 200 ? 0.4 : 0.9}"><title>${esc(s.name)}: (${fmt(x)}, ${fmt(y)})</title></circle>`);
    } else if (pts.length) {
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`);
    }
    parts.push(`<rect x="${m.l + 8}" y="${m.t + 6 + k * 16}" width="10" height="10" fill="${s.color}"/><text x="${m.l + 22}" y="${m.t + 15 + k * 16}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** page wraps body HTML in a minimal self-contained document. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}table{border-collapse:collapse;margin:12px 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.fail{color:#b00;font-weight:bold}.pass{color:#070;font-weight:bold}.charts{display:flex;flex-wrap:wrap;gap:16px}code{background:#f4f4f4;padding:1px 4px}
</style></head><body><h1>${esc(title)}</h1>${body}</body></html>\n`;
}

/** table renders rows (first row = header) as HTML. */
export function table(rows: (string | number)[][]): string {
  const [head, ...rest] = rows;
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : esc(v));
  return `<table><tr>${head!.map((h) => `<th>${cell(h)}</th>`).join('')}</tr>${rest.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('')}</table>`;
}

export { esc };
