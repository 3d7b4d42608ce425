/**
 * Starting the traced program: the child's command line, its environment (the preload goes in
 * NODE_OPTIONS so `npm test` and child processes inherit it), stdio passed straight through, and
 * the child's exit status reported back unchanged.
 */
import { spawn, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { VizError } from '../model/errors.js';

/** Environment variables read by the preload inside the traced program. */
export const ENV = {
  /** Directory where every traced process writes `<pid>.vizdump` and `<pid>.meta.json`. */
  outDir: 'VIZ_OUT_DIR',
  /** Ring capacity in events per thread. */
  bufferSize: 'VIZ_BUFFER_SIZE',
  /** Where instrumented sources are cached; empty disables the cache. */
  cacheDir: 'VIZ_CACHE_DIR',
  /** Package root of viz itself: its dist/ and node_modules/ are never traced. */
  root: 'VIZ_ROOT',
  /** viz's `--import`s exactly as appended to NODE_OPTIONS (re-injected into custom child envs). */
  imports: 'VIZ_IMPORTS',
  /** JSON arrays of globs: files to trace / never to trace. */
  include: 'VIZ_INCLUDE',
  exclude: 'VIZ_EXCLUDE',
  /** Directory relative globs are matched from. */
  filterBase: 'VIZ_FILTER_BASE',
  /** JSON array of function names: sparse mode, only those are instrumented. */
  functions: 'VIZ_FUNCTIONS',
  /** `1`: child processes of the first traced process are not traced. */
  noFollow: 'VIZ_NO_FOLLOW',
  /** What else to record, comma-separated: args, return, exceptions, console, gc, event-loop, memory. */
  log: 'VIZ_LOG',
  /** Sampling interval of the event-loop and memory counters, ms. */
  logIntervalMs: 'VIZ_LOG_INTERVAL_MS',
  /** `1`: calls are not recorded until the program calls the API's start(). */
  paused: 'VIZ_PAUSED',
} as const;

/** The values `--log-*` flags add to VIZ_LOG. */
export const LOG_KINDS = ['args', 'return', 'exceptions', 'console', 'gc', 'event-loop', 'memory'] as const;
export type LogKind = (typeof LOG_KINDS)[number];

/** Extensions that need tsx to run. */
const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

let cachedRoot: string | undefined;

/** The viz package root (the directory holding its package.json), from wherever this file runs. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'run.js'))) break;
    const up = dirname(dir);
    if (up === dir) throw new VizError('internal', 'cannot find the viz package root');
    dir = up;
  }
  cachedRoot = dir;
  return dir;
}

/** The compiled preload (`dist/src/record/runtime/preload.js`); the traced program runs plain JS only. */
export function preloadPath(): string {
  const file = join(packageRoot(), 'dist', 'src', 'record', 'runtime', 'preload.js');
  if (!existsSync(file)) {
    throw new VizError('internal', `${file}: the compiled preload is missing`, ['run `npm run build`']);
  }
  return file;
}

/** tsx's loader, resolved from viz's own dependencies so the traced project need not have it. */
export function tsxLoaderUrl(): string {
  const require = createRequire(join(packageRoot(), 'package.json'));
  let pkg: string;
  try {
    pkg = require.resolve('tsx/package.json');
  } catch {
    throw new VizError('internal', 'tsx is not installed: it is needed to record TypeScript programs', [
      'npm install tsx',
    ]);
  }
  return pathToFileURL(join(dirname(pkg), 'dist', 'loader.mjs')).href;
}

export function isTypeScript(file: string): boolean {
  return TS_EXTENSIONS.has(extname(file).toLowerCase());
}

/** Default cache for instrumented sources: `$VIZ_CACHE_DIR`, `$XDG_CACHE_HOME/viz`, `~/.cache/viz`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env[ENV.cacheDir] !== undefined) return env[ENV.cacheDir] ?? '';
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'viz');
}

/** Quote one NODE_OPTIONS token when needed (NODE_OPTIONS splits on spaces, honouring double quotes). */
function nodeOption(flag: string, value: string): string {
  return /[\s"\\]/.test(value) ? `${flag}="${value.replace(/(["\\])/g, '\\$1')}"` : `${flag}=${value}`;
}

export interface ChildPlan {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** What the summary calls the program (script name or command). */
  label: string;
}

export interface PlanOptions {
  /** `script.js args...` or, with `command`, `<command> args...`. */
  argv: string[];
  /** True for `viz record -- <command>`: argv[0] is a command found on PATH, not a script. */
  command: boolean;
  outDir: string;
  bufferSize?: number;
  cacheDir?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Globs of files to trace (none: all) and never to trace. */
  include?: string[];
  exclude?: string[];
  /** Do not trace child processes of the program (workers still are). */
  noFollow?: boolean;
  /** Sparse mode: instrument only the functions with these names. */
  functions?: string[];
  log?: readonly LogKind[];
  logIntervalMs?: number;
  paused?: boolean;
}

/** The command line and environment for the traced child. */
export function planChild(opts: PlanOptions): ChildPlan {
  const [first, ...rest] = opts.argv;
  if (first === undefined || first === '') {
    throw new VizError(
      'usage',
      'nothing to record: give a script (`viz record app.js`) or a command after `--`',
      ['viz record app.js', 'viz record -- npm test'],
    );
  }
  const base = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const imports: string[] = [];
  let file: string;
  let args: string[];
  if (opts.command) {
    file = first;
    args = rest;
  } else {
    const script = resolve(cwd, first);
    if (!existsSync(script)) {
      throw new VizError('usage', `${first}: no such script`, [
        `to run a command rather than a script: viz record -- ${opts.argv.join(' ')}`,
      ]);
    }
    if (isTypeScript(script)) imports.push(tsxLoaderUrl());
    file = process.execPath;
    args = [first, ...rest];
  }
  imports.push(pathToFileURL(preloadPath()).href);
  const options = imports.map((u) => nodeOption('--import', u)).join(' ');
  const env: NodeJS.ProcessEnv = {
    ...base,
    NODE_OPTIONS: base.NODE_OPTIONS ? `${base.NODE_OPTIONS} ${options}` : options,
    [ENV.outDir]: opts.outDir,
    [ENV.root]: packageRoot(),
    [ENV.cacheDir]: opts.cacheDir ?? defaultCacheDir(base),
    [ENV.imports]: options,
    [ENV.filterBase]: cwd,
  };
  if (opts.bufferSize !== undefined) env[ENV.bufferSize] = String(opts.bufferSize);
  else delete env[ENV.bufferSize];
  const globs = (name: string, list: string[] | undefined) => {
    if (list && list.length > 0) env[name] = JSON.stringify(list);
    else delete env[name];
  };
  globs(ENV.include, opts.include);
  globs(ENV.exclude, opts.exclude);
  // sparse mode with no names is still sparse: only the API's traced() functions record
  if (opts.functions) env[ENV.functions] = JSON.stringify(opts.functions);
  else delete env[ENV.functions];
  const set = (name: string, value: string | undefined) => {
    if (value) env[name] = value;
    else delete env[name];
  };
  set(ENV.log, opts.log?.join(','));
  set(ENV.logIntervalMs, opts.logIntervalMs === undefined ? undefined : String(opts.logIntervalMs));
  set(ENV.paused, opts.paused ? '1' : undefined);
  if (opts.noFollow) env[ENV.noFollow] = '1';
  else delete env[ENV.noFollow];
  return { file, args, env, label: opts.command ? opts.argv.join(' ') : first };
}

export interface ChildExit {
  pid: number | undefined;
  /** Exit code, or null when the child died by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Signals the terminal delivers to the whole foreground process group: the child gets them itself. */
const GROUP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT'];
/** Signals sent to viz alone: passed on to the child. */
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];

/**
 * Run the child with stdio inherited (stdin, stdout and stderr are the child's own), wait for it
 * and report how it ended. While it runs, viz ignores terminal signals (the child decides what
 * they mean) and forwards signals addressed to viz alone.
 */
export function runChild(
  plan: ChildPlan,
  options: { cwd?: string; stdio?: StdioOptions } = {},
): Promise<ChildExit> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(plan.file, plan.args, {
      cwd: options.cwd,
      env: plan.env,
      stdio: options.stdio ?? 'inherit',
    });
    const handlers = new Map<NodeJS.Signals, () => void>();
    const onSignal = (sig: NodeJS.Signals) => () => {
      if (!GROUP_SIGNALS.includes(sig) && child.exitCode === null && child.signalCode === null) {
        child.kill(sig);
      }
    };
    for (const sig of [...GROUP_SIGNALS, ...FORWARDED_SIGNALS]) {
      const h = onSignal(sig);
      handlers.set(sig, h);
      process.on(sig, h);
    }
    const cleanup = () => {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      const hint = err.code === 'ENOENT' ? [`is \`${plan.file}\` installed and on PATH?`] : [];
      reject(new VizError('usage', `${plan.file}: cannot start: ${err.message}`, hint));
    });
    child.once('exit', (code, signal) => {
      cleanup();
      resolvePromise({ pid: child.pid, code, signal });
    });
  });
}
