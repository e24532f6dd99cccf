/**
 * main: `npm start` (tsx resource-agent/main.ts). Parses flags and RESOURCE_AGENT_* variables once,
 * starts the agent and stops it gracefully on SIGTERM or SIGINT.
 *
 *   npm start                                          shipped store (./manifest.json) on 127.0.0.1:8080
 *   npm start -- --port 9000 --admin-token-file ./token
 *   npm start -- --help
 *
 * Exit codes: 0 after a graceful stop, 2 for bad options (one `error:` line naming the flag), 1 when
 * the listener cannot start (port in use) or on a bug.
 */
import { UserError } from '../src/util/errors.js';
import { parseOptions } from './options.js';
import { startAgent } from './server.js';

async function main(): Promise<void> {
  const parsed = parseOptions(process.argv.slice(2), process.env);
  if ('help' in parsed) {
    process.stdout.write(parsed.help + '\n');
    return;
  }
  const o = parsed.options;
  const agent = await startAgent(o);
  // Where to go next, as URLs a browser on this machine opens (0.0.0.0 and :: listen everywhere).
  const origin = /^(0\.0\.0\.0|::|\[::\])$/.test(o.host) ? `http://localhost:${agent.port}` : agent.url.replace(/\/$/, '');
  agent.app.log.info(
    { dashboard: o.ui ? `${origin}/ui` : null, docs: o.docs ? `${origin}/docs` : null },
    `listening on ${agent.url}${o.ui ? `; dashboard ${origin}/ui` : ''}${o.docs ? `; API docs ${origin}/docs` : ''}; try: curl -s ${origin}/readyz`,
  );
  const stop = (signal: string) => {
    agent.app.log.info({ signal }, 'signal received');
    agent.close().then(
      () => process.exit(0),
      (e: unknown) => {
        agent.app.log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  if (e instanceof UserError) {
    process.stderr.write(`error: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`error: the agent could not start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
