/**
 * cli: what the four thin scripts share: yargs set-up with strict options and --help, and the one place
 * that turns an InputError (util/errors.ts) into one line on stderr and an exit code.
 */
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { existsSync, statSync } from 'node:fs';
import { InputError, UserError } from './errors.js';

/** SERVED_STORE: the model store `npm start` serves, which export and rollback change by default. */
export const SERVED_STORE = { manifest: 'manifest.json', models: 'models/' } as const;
/** TRAIN_OUTPUT: where train writes by default: never models/, whose files are the shipped model (git ignores runs/). */
export const TRAIN_OUTPUT = 'runs/train/';
/** TRAINED_MODEL: what validate and export take by default: the int8 model train just wrote. */
export const TRAINED_MODEL = `${TRAIN_OUTPUT}predictor.onnx`;

/**
 * requireModel fails at once, before a command generates or reads any data, when the model file is not there.
 * Example: requireModel('runs/train/predictor.onnx', TRAINED_MODEL) with no training run yet →
 * "cannot read model runs/train/predictor.onnx (ENOENT): train one first (npm run train writes it), or …".
 */
export function requireModel(path: string, trained: string): void {
  if (existsSync(path) && statSync(path).isFile()) return;
  const why = existsSync(path) ? 'it is a folder' : 'ENOENT';
  const hint = path === trained ? 'train one first (npm run train writes it), or name one with --model (the shipped model: --model models/predictor.onnx)' : 'check the path given to --model';
  throw new UserError(`cannot read model ${path} (${why}): ${hint}`);
}

/**
 * rawArg returns the text given for --name on the command line (`--epochs abc` or `--epochs=abc` → 'abc'),
 * so that an error can say what was typed rather than what yargs made of it (NaN).
 */
export function rawArg(name: string, args: readonly string[] = process.argv.slice(2)): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === `--${name}`) return args[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/**
 * familyArg is the one reader of --family: the name given (`--family job-memory/bowtie2` or
 * `--family=job-memory/bowtie2`), or `dflt` when the flag is absent or has no value. Scripts read it before
 * their other flags, because the family decides which flags there are; the registry's getFamily turns the
 * name into the family, or refuses it naming the registered ones.
 * Example: familyArg('container-resources', ['--data', 'x.csv', '--family=job-memory']) === 'job-memory'.
 */
export function familyArg(dflt: string, args?: readonly string[]): string;
export function familyArg(dflt?: undefined, args?: readonly string[]): string | undefined;
export function familyArg(dflt?: string, args: readonly string[] = process.argv.slice(2)): string | undefined {
  const given = rawArg('family', args);
  return given === undefined || given === '' ? dflt : given;
}

/** familyOption is the --family option's yargs entry (so --help lists it and strict mode accepts it). */
export function familyOption(names: readonly string[], dflt: string) {
  return { type: 'string', default: dflt, describe: `model family (${names.join(', ')})` } as const;
}

/** notANumber: the first option whose value yargs could not read as a number, as an error naming what was given. */
function notANumber(argv: Record<string, unknown>): UserError | null {
  for (const [k, v] of Object.entries(argv)) {
    if (typeof v !== 'number' || !Number.isNaN(v) || /[A-Z]/.test(k) || k.length === 1) continue;
    const given = rawArg(k);
    return new UserError(`--${k} must be a number, got ${given === undefined ? 'no value' : JSON.stringify(given)}`);
  }
  return null;
}

/** makeCli returns a strict yargs parser with a usage line and --help. */
export function makeCli(script: string, usage: string): Argv {
  return yargs(hideBin(process.argv))
    .scriptName(script)
    .usage(usage)
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    // the terminal's width, at most 110; piped or redirected (no terminal), lines are not wrapped at
    // all, so no word is ever cut by a width that is not there
    .wrap(process.stdout.isTTY ? Math.min(110, process.stdout.columns || 110) : null)
    .middleware((argv) => {
      const e = notANumber(argv as Record<string, unknown>);
      if (e) throw e;
    })
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
