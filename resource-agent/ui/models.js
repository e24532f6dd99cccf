/*
 * models.js: the dashboard's Models page (#models): every retained version of each family, newest first,
 * with its checksum, flags and validation figures, and the admin buttons Activate and Roll back (disabled,
 * saying why, when the agent has no admin token or the version cannot be activated).
 */
import { h, num, table, when, yesNo } from './dom.js';
import { admin, getJson } from './api.js';

/** validationText: a version's validation figures as a list (— when it has none). */
function validationText(v) {
  if (!v || typeof v !== 'object') return '—';
  return h('ul', { className: 'figures' }, Object.entries(v).map(([k, x]) => h('li', {}, `${k}: ${typeof x === 'number' ? num(x, 3) : JSON.stringify(x)}`)));
}

/** models: the page's parts, for app.js's router. */
export async function models() {
  const [cfg, fams] = await Promise.all([getJson('/ui/api/config'), getJson('/v1/families')]);
  const out = h('p', { className: 'result', role: 'status', 'aria-live': 'polite', id: 'admin-result' });
  const parts = [h('h1', {}, 'Models')];
  const disabledId = 'admin-disabled';
  if (!cfg.admin.enabled) parts.push(h('p', { className: 'note', id: disabledId }, `Activate and rollback are disabled: ${cfg.admin.reason}.`));
  else parts.push(h('p', { className: 'muted' }, 'Activate and rollback ask for the admin token; it stays in this page only.'));
  parts.push(out);
  const sections = h('div', {});
  parts.push(sections);

  const draw = async () => {
    const statuses = await Promise.all(fams.families.map((f) => getJson(f.models)));
    sections.replaceChildren(...fams.families.map((f, i) => {
      const s = statuses[i];
      // The agent's own prefix for the family (a family name may hold a '/': job-memory/build-jobs).
      const base = f.models.replace(/\/models$/, '');
      const noRollback = !cfg.admin.enabled ? disabledId : !s.previousActive ? `rb-why-${f.name}` : null;
      const rollback = h('button', {
        type: 'button', className: 'primary', 'data-action': 'rollback', 'data-family': f.name,
        disabled: noRollback !== null, 'aria-describedby': noRollback,
        onclick: () => admin(`Roll back ${f.name} to ${s.previousActive}`, `${base}/rollback`, out, draw),
      }, s.previousActive ? `Roll back to ${s.previousActive}` : 'Roll back');
      const rows = s.versions.slice().reverse().map((v) => {
        const why = !cfg.admin.enabled ? disabledId : v.active ? `act-why-${f.name}-${v.version}` : v.status !== 'verified' ? `act-why-${f.name}-${v.version}` : null;
        const whyText = v.active ? 'already active' : v.status !== 'verified' ? `refused: ${v.reason || 'not verified'}` : null;
        const button = h('button', {
          type: 'button', 'data-action': 'activate', 'data-family': f.name, 'data-version': v.version,
          'aria-label': `Activate version ${v.version} of ${f.name}`, disabled: why !== null, 'aria-describedby': why,
          onclick: () => admin(`Activate ${f.name} ${v.version}`, `${base}/models/${encodeURIComponent(v.version)}/activate`, out, draw),
        }, 'Activate');
        const flags = [v.active ? 'active' : null, v.previousActive ? 'previous' : null, v.serving ? 'serving' : null].filter(Boolean).join(', ');
        return [
          v.version,
          when(v.createdAt),
          v.status === 'verified' ? yesNo(true, 'verified', '') : h('span', { className: 'bad', title: v.reason || '' }, `refused: ${v.reason || ''}`),
          flags || '—',
          validationText(v.validation),
          num(v.bytes),
          h('code', { title: `sha256 of ${v.file}` }, v.sha256),
          h('span', {}, button, whyText && cfg.admin.enabled ? h('span', { id: `act-why-${f.name}-${v.version}`, className: 'muted' }, ` ${whyText}`) : null),
        ];
      });
      return h('section', { 'aria-labelledby': `models-${f.name}`, 'data-family': f.name },
        h('h2', { id: `models-${f.name}` }, `${f.name}`, h('span', { className: 'muted' }, ` — active ${s.active || '—'}, previous ${s.previousActive || '—'}, serving ${s.serving || '—'}`)),
        h('div', { className: 'toolbar' }, rollback, !s.previousActive && cfg.admin.enabled ? h('span', { id: `rb-why-${f.name}`, className: 'muted' }, 'no previous version to roll back to') : null),
        table(['version', 'created', 'checksum', 'flags', 'validation', 'bytes', 'sha256', 'action'], rows, `${f.name}: every retained version, newest first`, 'models'));
    }));
  };
  await draw();
  return parts;
}
