/**
 * cli: what the four thin scripts share: yargs set-up with strict options and --help, and the one place
 * that turns an InputError (util/errors.ts) into one line on stderr and an exit code.
 */
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { InputError, UserError } from './errors.js';

/** makeCli returns a strict yargs parser with a usage line and --help. */
export function makeCli(script: string, usage: string): Argv {
  return yargs(hideBin(process.argv))
    .scriptName(script)
    .usage(usage)
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UserError(`${msg} (see --help)`);
    });
}

/** runMain runs a CLI's main, printing input errors as one line. */
export function runMain(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    if (e instanceof InputError) {
      process.stderr.write(`error: ${e.message}\n`);
      process.exit(e.exitCode);
    }
    process.stderr.write(`internal error (please report): ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}

/** progress writes a progress line to stderr: in place on a terminal, one line per call otherwise. */
export function progress(line: string, final = false): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
  else process.stderr.write(`${line}\n`);
}

/** formatDuration(75.2) === "1m15s" */
export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  if (sec < 60) return `${sec.toFixed(1)}s`;
  return `${Math.floor(sec / 60)}m${String(Math.round(sec % 60)).padStart(2, '0')}s`;
}
