/**
 * image: `npm run image` builds the agent's OCI image with buildah, FROM SCRATCH: no Docker daemon, no
 * base image, nothing pulled from a container registry. What goes in:
 *
 *   /usr/bin/node          the Node.js that runs this command (the one the tests ran on; ≥ 20)
 *   /usr/lib/…             the C and C++ runtime node and ONNX Runtime link against, copied from this
 *                          machine's Debian packages libc6, libgcc-s1 and libstdc++6 (`dpkg -L`)
 *   /usr/bin/busybox, sh…  Debian's busybox-static: a shell, cp and mv for the pvc-store init container
 *                          and `kubectl exec` (a dozen applets; nothing else)
 *   /app                   production node_modules (`npm ci --omit=dev --ignore-scripts`, the training-only
 *                          tfjs packages and other platforms' ONNX Runtime binaries removed), the sources
 *                          the agent runs, and the served model store (manifest.json + the files it retains)
 *   /etc/passwd, group     root and node (1000), the user the image runs as
 *
 * The result is `resource-agent:<package.json version>` in the local containers storage (buildah and
 * podman share it): `podman run`, `buildah push … docker://REGISTRY/…`, or `--archive FILE` for an
 * oci-archive that `skopeo copy` or `kind load image-archive` takes. Same entrypoint, user and layout as
 * resource-agent/Dockerfile (for Docker users), so the deploy manifests fit either.
 *
 * Needs root (or `buildah unshare npm run image`), buildah and busybox-static
 * (`apt-get install buildah busybox-static`). test/image.test.ts builds it and starts it with podman.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { makeCli, progress, runMain } from '../../src/util/cli.js';
import { UserError } from '../../src/util/errors.js';

const REPO = resolve(import.meta.dirname, '../..');

/** DEBIAN_PACKAGES: the Debian packages whose files the image holds (libraries and busybox only). */
export const DEBIAN_PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6'] as const;
/** BUSYBOX_PACKAGES: the first installed one gives /bin/busybox (the static build needs no library). */
export const BUSYBOX_PACKAGES = ['busybox-static', 'busybox'] as const;
/** BUSYBOX_APPLETS: the commands linked to busybox (the init container's script uses sh, cp, mkdir, mv, echo). */
export const BUSYBOX_APPLETS = ['sh', 'cat', 'cp', 'env', 'id', 'ls', 'mkdir', 'mv', 'rm', 'sleep', 'test', 'wget'];
/** ENTRYPOINT: node itself is PID 1, so SIGTERM reaches the agent's graceful shutdown. */
export const ENTRYPOINT = ['/usr/bin/node', '--import', 'tsx', 'resource-agent/main.ts'];

/** the package's own files the image keeps: shared libraries and busybox, not docs, locales or iconv modules */
function keep(path: string): boolean {
  if (/^\/(usr\/)?(lib|lib64)\//.test(path)) return !/\/gconv\/|\/audit\//.test(path);
  return path === '/bin/busybox' || path === '/usr/bin/busybox';
}

/** inImage maps a host path to the image's merged /usr (bin, lib, lib64 and sbin are links into /usr). */
export function inImage(path: string): string {
  return path.replace(/^\/(bin|sbin|lib|lib64)\//, '/usr/$1/');
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...opts }).trim();
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new UserError(`${cmd} is not installed (apt-get install ${cmd === 'dpkg-query' ? 'dpkg' : cmd})`);
    throw new UserError(`${cmd} ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-3).join(' | ')}`);
  }
}

/** installedVersion: the installed version of a Debian package, or null. */
function installedVersion(pkg: string): string | null {
  try {
    const status = execFileSync('dpkg-query', ['-W', '-f', '${Status} ${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return status.startsWith('install ok installed') ? status.split(' ').pop()! : null;
  } catch {
    return null;
  }
}

/** debianFiles lists the kept files of one installed Debian package, with its version. */
function debianFiles(pkg: string): { version: string; files: string[] } {
  const version = installedVersion(pkg);
  if (version === null) throw new UserError(`the Debian package ${pkg} is not installed (apt-get install ${pkg})`);
  const files = run('dpkg', ['-L', pkg]).split('\n').filter(keep);
  return { version, files };
}

/** copyHostFile copies a regular file or a file symlink of the host into the root filesystem at `root`. */
function copyHostFile(root: string, path: string): void {
  const st = lstatSync(path);
  const dest = join(root, inImage(path));
  if (st.isSymbolicLink()) {
    if (statSync(path).isDirectory()) return; // /lib64 and the like: the skeleton has them
    mkdirSync(dirname(dest), { recursive: true });
    rmSync(dest, { force: true });
    symlinkSync(readlinkSync(path), dest);
  } else if (st.isFile()) {
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(path, dest);
    chmodSync(dest, st.mode & 0o7777);
  }
}

/** skeleton: the merged-/usr layout, /tmp, and the users. */
function skeleton(root: string): void {
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'etc', 'app', 'store']) mkdirSync(join(root, d), { recursive: true });
  for (const l of ['bin', 'sbin', 'lib', 'lib64']) if (!existsSync(join(root, l))) symlinkSync(`usr/${l}`, join(root, l));
  mkdirSync(join(root, 'tmp'), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:1000:1000:node:/app:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n');
  writeFileSync(join(root, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
}

/** storeFiles: manifest.json and every model file it retains (paths relative to the repository). */
function storeFiles(): string[] {
  const m = JSON.parse(readFileSync(join(REPO, 'manifest.json'), 'utf8')) as { families: Record<string, { versions: { file: string }[] }> };
  const files = Object.values(m.families).flatMap((f) => f.versions.map((v) => v.file));
  for (const f of files) if (!existsSync(join(REPO, f))) throw new UserError(`manifest.json retains ${f}, which does not exist`);
  return ['manifest.json', ...new Set(files)];
}

/** appTree installs production dependencies in `app` and copies the agent's sources and the store. */
function appTree(app: string): void {
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(REPO, f), join(app, f));
  progress('image: npm ci --omit=dev --ignore-scripts (from the npm cache when it has every package)');
  // --ignore-scripts: no install script downloads anything (tfjs-node would fetch libtensorflow,
  // onnxruntime-node CUDA parts); the agent needs neither.
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_update_notifier: 'false' } });
  // What the agent never loads: the training-only tfjs packages, other platforms' ONNX Runtime (~220 MB).
  rmSync(join(app, 'node_modules/@tensorflow'), { recursive: true, force: true });
  const ort = join(app, 'node_modules/onnxruntime-node/bin/napi-v6');
  for (const os of run('ls', [ort]).split('\n')) if (os !== 'linux') rmSync(join(ort, os), { recursive: true, force: true });
  for (const arch of run('ls', [join(ort, 'linux')]).split('\n')) if (arch !== process.arch) rmSync(join(ort, 'linux', arch), { recursive: true, force: true });
  copyFileSync(join(REPO, 'tsconfig.json'), join(app, 'tsconfig.json'));
  cpSync(join(REPO, 'src'), join(app, 'src'), { recursive: true });
  mkdirSync(join(app, 'resource-agent/routes'), { recursive: true });
  for (const dir of ['resource-agent', 'resource-agent/routes']) {
    for (const f of run('ls', [join(REPO, dir)]).split('\n')) if (f.endsWith('.ts')) copyFileSync(join(REPO, dir, f), join(app, dir, f));
  }
  cpSync(join(REPO, 'resource-agent/ui'), join(app, 'resource-agent/ui'), { recursive: true });
  // The served store (manifest.json + models/…), which the pvc-store init container seeds a volume with.
  for (const f of storeFiles()) {
    mkdirSync(dirname(join(app, f)), { recursive: true });
    copyFileSync(join(REPO, f), join(app, f));
  }
}

runMain(async () => {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  const argv = await makeCli('image', `Build the agent's OCI image with buildah from scratch: no Docker daemon, no base image pulled.\n\nUsage: npm run image [-- --tag resource-agent:${pkg.version}] [--archive resource-agent.oci.tar]`)
    .option('tag', { type: 'string', default: `resource-agent:${pkg.version}`, describe: 'image name and tag in the local containers storage (podman sees it as localhost/NAME:TAG)' })
    .option('archive', { type: 'string', describe: 'also write an oci-archive file (for skopeo copy, kind load image-archive, ctr import)' })
    .option('node', { type: 'string', default: process.execPath, describe: 'the Node.js binary the image runs (major version 20 or later)' })
    .parse();
  const nodeVersion = run(argv.node, ['--version']);
  if (!(Number(/^v(\d+)\./.exec(nodeVersion)?.[1]) >= 20)) throw new UserError(`--node ${argv.node} is ${nodeVersion}; the agent needs Node.js 20 or later`);
  run('buildah', ['--version']);
  const busybox = BUSYBOX_PACKAGES.find((p) => installedVersion(p) !== null) ?? BUSYBOX_PACKAGES[0];
  const debs = [...DEBIAN_PACKAGES, busybox].map((p) => ({ name: p, ...debianFiles(p) }));
  const revision = (() => {
    try {
      return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return 'unknown';
    }
  })();

  const t0 = Date.now();
  let ctr = '';
  try {
    progress(`image: buildah from scratch (${debs.map((d) => `${d.name} ${d.version}`).join(', ')}; node ${nodeVersion})`);
    ctr = run('buildah', ['from', 'scratch']);
    // the container's root filesystem, written in place (no staging copy)
    const root = run('buildah', ['mount', ctr]);
    skeleton(root);
    for (const d of debs) for (const f of d.files) copyHostFile(root, f);
    for (const a of BUSYBOX_APPLETS) symlinkSync('busybox', join(root, 'usr/bin', a));
    copyFileSync(argv.node, join(root, 'usr/bin/node'));
    chmodSync(join(root, 'usr/bin/node'), 0o755);
    appTree(join(root, 'app'));
    run('buildah', ['unmount', ctr]);
    const labels = {
      'org.opencontainers.image.title': 'resource-agent',
      'org.opencontainers.image.description': 'Serves the container-resource-predictor models (npm run image)',
      'org.opencontainers.image.version': pkg.version,
      'org.opencontainers.image.revision': revision,
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.base.name': 'scratch',
      'io.container-resource-predictor.node': nodeVersion,
      'io.container-resource-predictor.debian-packages': debs.map((d) => `${d.name}=${d.version}`).join(' '),
    };
    run('buildah', [
      'config',
      '--entrypoint', JSON.stringify(ENTRYPOINT),
      '--cmd', JSON.stringify(['--host', '0.0.0.0']),
      '--workingdir', '/app',
      '--user', '1000:1000',
      '--port', '8080',
      '--stop-signal', 'SIGTERM',
      // tsx compiles the sources at start-up; with its cache off nothing is written, so the root
      // filesystem can be read-only.
      '--env', 'NODE_ENV=production',
      '--env', 'TSX_DISABLE_CACHE=1',
      '--env', 'PATH=/usr/bin',
      ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      ctr,
    ]);
    const id = run('buildah', ['commit', '--quiet', '--format', 'oci', '--rm', ctr, argv.tag]);
    ctr = '';
    const size = run('buildah', ['images', '--noheading', '--format', '{{.Size}}', id]);
    if (argv.archive) {
      progress(`image: writing ${argv.archive}`);
      run('buildah', ['push', '--quiet', id, `oci-archive:${resolve(argv.archive)}:${argv.tag}`]);
    }
    progress(`image: built ${argv.tag} (${id.slice(0, 12)}, ${size}) in ${((Date.now() - t0) / 1000).toFixed(1)} s${argv.archive ? `; ${argv.archive}` : ''}`, true);
    console.log(JSON.stringify({ tag: argv.tag, id, node: nodeVersion, debian: Object.fromEntries(debs.map((d) => [d.name, d.version])), archive: argv.archive ? resolve(argv.archive) : null }));
  } finally {
    if (ctr) {
      try {
        execFileSync('buildah', ['rm', ctr], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }
});
