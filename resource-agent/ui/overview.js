/*
 * overview.js: the dashboard's Overview page (#overview): each served family, whether it is ready, the
 * version it serves, its active and previous versions, its refusals and its last reload (/v1/families and
 * each family's models route).
 */
import { h, when, yesNo } from './dom.js';
import { getJson } from './api.js';

/** overview: the page's parts, for app.js's router. */
export async function overview() {
  const fams = await getJson('/v1/families');
  const statuses = await Promise.all(fams.families.map((f) => getJson(f.models)));
  const cards = fams.families.map((f, i) => {
    const s = statuses[i];
    const refused = s.versions.filter((v) => v.status === 'refused');
    return h('section', { className: 'card', 'aria-labelledby': `fam-${f.name}` },
      h('h2', { id: `fam-${f.name}` }, f.name, fams.default === f.name ? h('span', { className: 'muted' }, ' (default family)') : null),
      h('p', { className: 'muted' }, f.title),
      h('dl', {},
        h('dt', {}, 'ready'), h('dd', { 'data-field': 'ready' }, yesNo(s.ready, 'ready', 'not ready'), s.ready ? null : ` — ${s.activeError || s.manifestError || 'no manifest loaded yet'}`),
        h('dt', {}, 'serving'), h('dd', { 'data-field': 'serving' }, s.serving || '—'),
        h('dt', {}, 'active'), h('dd', { 'data-field': 'active' }, s.active || '—'),
        h('dt', {}, 'previous'), h('dd', { 'data-field': 'previous' }, s.previousActive || '—'),
        h('dt', {}, 'retained'), h('dd', {}, `${s.versions.length} version${s.versions.length === 1 ? '' : 's'}`),
        h('dt', {}, 'refusals'), h('dd', { 'data-field': 'refusals' }, refused.length === 0 && !s.manifestError ? 'none' : h('ul', {},
          s.manifestError ? h('li', {}, `manifest refused: ${s.manifestError}`) : null,
          refused.map((v) => h('li', {}, h('code', {}, v.version), ` ${v.reason || 'refused'}`)))),
        h('dt', {}, 'last reload'), h('dd', { 'data-field': 'last-reload' }, when(s.lastReloadAt)),
        h('dt', {}, 'manifest updated'), h('dd', {}, when(s.manifestUpdatedAt)),
        h('dt', {}, 'recommendations'), h('dd', {}, h('code', {}, `POST ${f.recommend}`)),
      ));
  });
  return [h('h1', {}, 'Overview'), h('p', { className: 'muted' }, `${fams.families.length} model famil${fams.families.length === 1 ? 'y' : 'ies'} served. Details per version under Models.`), h('div', { className: 'cards' }, cards)];
}
