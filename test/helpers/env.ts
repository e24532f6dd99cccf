/**
 * env: what tests need from the machine. A test that needs a Debian tool skips with a one-line reason on a
 * user's machine, but in CI (CI set) a missing tool is a failure: .ci/run installs them.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../..');
export const SHARED_DATA = resolve(REPO, '../shared/data');
export const IN_CI = !!process.env.CI;

function pythonHas(mod: string): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', `import ${mod}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** CHROMIUM: Debian's chromium, which the browser tests drive with playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

/** PROMETHEUS, PROMTOOL: Debian's prometheus package, which the Prometheus source's tests start on generated blocks. */
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** IMAGE_TOOLS: what `npm run image` and its test use (Debian packages); the test also needs root. */
export const IMAGE_TOOLS = ['/usr/bin/buildah', '/usr/bin/podman', '/bin/busybox'];

/** need returns a skip reason (or '' when available); in CI it throws instead of skipping. */
export function need(what: 'numpy' | 'onnx' | 'sklearn' | 'shared-data' | 'chromium' | 'prometheus' | 'image'): string {
  const ok = what === 'shared-data' ? existsSync(SHARED_DATA) : what === 'chromium' ? existsSync(CHROMIUM) : what === 'prometheus' ? existsSync(PROMETHEUS) && existsSync(PROMTOOL) : what === 'image' ? IMAGE_TOOLS.every((t) => existsSync(t)) && process.getuid?.() === 0 : pythonHas(what);
  if (ok) return '';
  const reason = what === 'shared-data' ? `../shared/data is absent (${SHARED_DATA})` : what === 'chromium' ? `${CHROMIUM} is absent (apt-get install chromium)` : what === 'prometheus' ? `${PROMETHEUS} and ${PROMTOOL} are absent (apt-get install prometheus)` : what === 'image' ? `building and running the image needs root and ${IMAGE_TOOLS.join(', ')} (apt-get install buildah podman busybox-static)` : `/usr/bin/python3 with ${what} is absent (apt-get install python3-${what})`;
  if (IN_CI) throw new Error(`${reason}: CI must have it (.ci/run installs it)`);
  return reason;
}
