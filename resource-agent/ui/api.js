/*
 * api.js: the agent's API as the dashboard calls it: api() and getJson() for GET and POST, and the admin
 * calls, whose bearer token is asked for in the page's dialog, kept in this module's memory only (never
 * in storage or a cookie), sent only with admin calls, and forgotten when the agent refuses it.
 */

const dialog = document.getElementById('admin-dialog');
const tokenInput = document.getElementById('admin-token');
let adminToken = '';

/** api: GET or POST a path of the agent; returns { status, body } (body parsed JSON, or null). */
export async function api(path, opts = {}) {
  const r = await fetch(path, { headers: { accept: 'application/json', ...(opts.headers || {}) }, method: opts.method || 'GET', body: opts.body, cache: 'no-store' });
  let body = null;
  try {
    body = await r.json();
  } catch {
    body = null;
  }
  return { status: r.status, body };
}

export async function getJson(path) {
  const r = await api(path);
  if (r.status !== 200) throw new Error(`${path} answered ${r.status}${r.body && r.body.error ? `: ${r.body.error.message}` : ''}`);
  return r.body;
}

/** askToken opens the admin dialog for `what`; resolves to the token, or null when cancelled. */
function askToken(what) {
  return new Promise((resolve) => {
    document.getElementById('admin-what').textContent = what;
    tokenInput.value = adminToken;
    dialog.returnValue = '';
    const done = () => {
      dialog.removeEventListener('close', done);
      resolve(dialog.returnValue === 'confirm' && tokenInput.value.trim() ? tokenInput.value.trim() : null);
      tokenInput.value = '';
    };
    dialog.addEventListener('close', done);
    dialog.showModal();
    tokenInput.focus();
  });
}

/** admin runs an admin call after asking for the token, and writes what happened into `out`. */
export async function admin(what, path, out, onDone) {
  const token = await askToken(what);
  if (token === null) {
    out.textContent = `${what}: cancelled.`;
    return;
  }
  adminToken = token;
  out.className = 'result';
  out.textContent = `${what}: sending…`;
  const r = await api(path, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (r.status === 200) {
    const b = r.body;
    out.className = 'result ok';
    out.textContent = `${what}: ${b.changed ? 'done' : 'nothing to change'}. Active ${b.active}, previous ${b.previousActive || '—'}, serving ${b.serving || '—'}.`;
  } else {
    if (r.status === 401 || r.status === 403) adminToken = '';
    const e = r.body && r.body.error;
    out.className = 'result bad';
    out.textContent = `${what}: refused (${r.status}${e ? ` ${e.code}` : ''})${e ? `: ${e.message}` : ''}.`;
  }
  await onDone();
}

/** adminPost: an admin POST with an optional JSON body (the Training page), after asking for the token; null when cancelled. */
export async function adminPost(what, path, body) {
  const token = await askToken(what);
  if (token === null) return null;
  adminToken = token;
  const json = body === undefined ? {} : { 'content-type': 'application/json' };
  const r = await api(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...json }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401 || r.status === 403) adminToken = '';
  return r;
}
