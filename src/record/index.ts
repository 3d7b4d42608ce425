/**
 * `viz record`: run a Node.js program with the recording preload, wait for it, collect the main
 * process's ring dump and write it where asked (converted when the output name says so).
 */
import {
  closeSync,
  copyFileSync,
  createReadStream,
  createWriteStream,
  openSync,
  readSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  existsSync,
  statSync,
} from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { VizError } from '../model/errors.js';
import { numberedDumpPath } from '../formats/ring/layout.js';
import { planChild, runChild, type ChildExit, type LogKind } from './spawn.js';
import { dumpStats, type DumpStats } from './stats.js';
import { conversionTarget, convertDump, DUMP_EXTENSION } from './output.js';
import type { SliceFilter } from './slice-filter.js';
import { topFunctions, type TopFunction } from './top.js';
import { pipeline } from 'node:stream/promises';

export { DUMP_EXTENSION } from './output.js';

export interface RecordOptions {
  /** Script and its arguments, or (with `command`) the command line after `--`. */
  argv: string[];
  command: boolean;
  /** Output file; default `viz-<name>-<timestamp>.vizdump` in `cwd`. */
  output?: string;
  /** Ring capacity per thread, in events. */
  bufferSize?: number;
  /** Cache for instrumented sources ('' disables it). */
  cacheDir?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Keep the per-process temp directory (for debugging); its path is in the result. */
  keepTemp?: boolean;
  /** Globs of source files to instrument (none: all) and never to instrument. */
  include?: string[];
  exclude?: string[];
  /** Trace child processes too (default true). */
  follow?: boolean;
  /** Sparse mode: instrument only the functions with these names. */
  functions?: string[];
  /** Conversion-time filters (outputs other than .vizdump). */
  filter?: SliceFilter;
  /** Add the functions with the most events to the messages. */
  stats?: boolean;
  /** `--log-*`: what else to record. */
  log?: readonly LogKind[];
  logIntervalMs?: number;
  /** `--paused`: calls are recorded from the program's start() on. */
  paused?: boolean;
}

export interface RecordResult {
  /** The child's exit status, passed through unchanged. */
  exit: ChildExit;
  /** Where the trace was written, or undefined when the program left no dump. */
  output?: string;
  stats?: DumpStats;
  /** Traced processes whose dumps the output holds (ordered by start time). */
  processes: number;
  /** Traced processes that left no dump (killed by SIGKILL). */
  lostProcesses?: number;
  /** Lines for stderr: warnings first, the summary last. */
  messages: string[];
  tempDir?: string;
}

/** Where the main process's dump is, given the per-process metadata the preloads wrote. */
export interface ProcessMeta {
  pid: number;
  ppid: number;
  argv: string[];
  /** Wall-clock ms at preload time. */
  startedAt: number;
}

function timestamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** `viz-fib-20261121-101500.vizdump` for `fib.js`, `viz-npm-...` for `-- npm test`. */
export function defaultOutputName(argv: string[], command: boolean, now = new Date()): string {
  const first = argv[0] ?? 'program';
  const name =
    command && basename(first) === 'node' && argv[1]
      ? (argv.find((a, i) => i > 0 && !a.startsWith('-')) ?? first)
      : first;
  const stem = basename(name, extname(name)).replace(/[^A-Za-z0-9_.-]+/g, '_') || 'program';
  return `viz-${stem}-${timestamp(now)}${DUMP_EXTENSION}`;
}

/** Read the metadata files the preloads left in `dir`. */
export function readProcessMetas(dir: string): ProcessMeta[] {
  const metas: ProcessMeta[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.meta.json')) continue;
    try {
      metas.push(JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProcessMeta);
    } catch {
      // a process killed while writing its metadata: its dump (if any) is still found by pid
    }
  }
  return metas;
}

/**
 * Traced processes in the order they are considered the main one: the direct child first, then
 * by depth in the tree of traced processes (a process whose parent was not traced is a root:
 * `-- npm test` traces the test runner, not npm), then by start time.
 */
export function mainProcessCandidates(metas: ProcessMeta[], childPid: number | undefined): ProcessMeta[] {
  const byPid = new Map(metas.map((m) => [m.pid, m]));
  const depth = (m: ProcessMeta): number => {
    let d = 0;
    for (let p = byPid.get(m.ppid); p && d < metas.length; p = byPid.get(p.ppid)) d++;
    return d;
  };
  const key = (m: ProcessMeta) => (m.pid === childPid ? -1 : depth(m));
  return [...metas].sort((a, b) => key(a) - key(b) || a.startedAt - b.startedAt);
}

/** The first candidate (see `mainProcessCandidates`), before looking at what the dumps hold. */
export function pickMainProcess(metas: ProcessMeta[], childPid: number | undefined): ProcessMeta | undefined {
  return mainProcessCandidates(metas, childPid)[0];
}

export function dumpPathFor(dir: string, pid: number): string {
  return join(dir, `${pid}${DUMP_EXTENSION}`);
}

/** Run the program traced and collect its trace. Never throws for the program's own failure. */
export async function record(opts: RecordOptions): Promise<RecordResult> {
  const cwd = opts.cwd ?? process.cwd();
  const output = resolve(cwd, opts.output ?? defaultOutputName(opts.argv, opts.command));
  if (!output.endsWith(DUMP_EXTENSION) && !conversionTarget(output)) {
    throw new VizError('usage', `${opts.output}: no trace format writes this extension`, [
      'use .vizdump (ring dump), .json or .json.gz (Chrome trace), or another format `viz convert` writes',
    ]);
  }
  const outParent = dirname(output);
  if (!existsSync(outParent) || !statSync(outParent).isDirectory()) {
    throw new VizError('usage', `${outParent}: no such directory for the output ${basename(output)}`);
  }
  const outDir = mkdtempSync(join(tmpdir(), 'viz-record-'));
  const messages: string[] = [];
  try {
    const plan = planChild({
      argv: opts.argv,
      command: opts.command,
      outDir,
      bufferSize: opts.bufferSize,
      cacheDir: opts.cacheDir,
      env: opts.env,
      cwd,
      include: opts.include,
      exclude: opts.exclude,
      noFollow: opts.follow === false,
      functions: opts.functions,
      log: opts.log,
      logIntervalMs: opts.logIntervalMs,
      paused: opts.paused,
    });
    const exit = await runChild(plan, { cwd });

    const metas = readProcessMetas(outDir);
    const files = readdirSync(outDir);
    // `<pid>.vizdump` per process (native: all its threads); `<pid>.t<n>.vizdump`: a worker of
    // the JavaScript fallback; SIGUSR2 snapshots (`<pid>.<n>.vizdump`) are kept apart.
    const dumps = files.filter((n) => /^\d+\.vizdump$/.test(n));
    // The main process: the first candidate that recorded anything (a wrapper that only
    // re-executes node, mocha with node flags, records nothing of its own).
    let main: ProcessMeta | undefined;
    let mainKept = -1;
    for (const m of mainProcessCandidates(metas, exit.pid)) {
      if (!existsSync(dumpPathFor(outDir, m.pid))) continue;
      const s = await dumpStats(dumpPathFor(outDir, m.pid));
      if (!main || (mainKept === 0 && s.kept > 0)) {
        main = m;
        mainKept = s.kept;
      }
      if (s.kept > 0) break;
    }
    main ??= pickMainProcess(metas, exit.pid);
    const lostProcesses = metas.filter((m) => !existsSync(dumpPathFor(outDir, m.pid))).length;
    if (lostProcesses > 0) {
      messages.push(
        `viz record: ${lostProcesses} traced process(es) left no dump (killed by SIGKILL, or before the recorder started): their events are lost`,
      );
    }
    if (!main || dumps.length === 0 || !existsSync(dumpPathFor(outDir, main.pid))) {
      messages.push(
        main
          ? `viz record: the traced process (pid ${main.pid}) left no dump: ` +
              (main.pid === exit.pid && exit.signal === 'SIGKILL'
                ? 'it was killed by SIGKILL, which no process can catch, so its ring (process memory) was lost; no output written'
                : 'it was killed before it could write one')
          : `viz record: no traced Node.js process ran (is \`${plan.label}\` a Node.js program?)`,
      );
      return { exit, processes: 0, lostProcesses, messages, tempDir: opts.keepTemp ? outDir : undefined };
    }

    // One file: every process's dump, by start time, each followed by its fallback workers'.
    const parts = orderDumps(outDir, dumps, files);
    const mainDump = parts.length === 1 ? parts[0]! : join(outDir, `merged${DUMP_EXTENSION}`);
    if (parts.length > 1) await concatenate(parts, mainDump);
    const stats = await dumpStats(mainDump);
    const top = opts.stats ? await topFunctions(mainDump) : [];

    let written: string;
    try {
      written = await deliver(mainDump, output, opts.filter);
    } catch (err) {
      // The program ran: never lose its trace because the output could not be written.
      const beside = output.endsWith(DUMP_EXTENSION)
        ? []
        : [output.replace(/(\.json)?(\.gz)?$/i, '') + DUMP_EXTENSION];
      written = keepSomewhere(mainDump, [
        ...beside,
        join(tmpdir(), basename(defaultOutputName(opts.argv, opts.command))),
      ]);
      messages.push(`viz record: ${(err as Error).message}; kept the ring dump at ${written}`);
    }
    const snapshots = keepSnapshots(outDir, main.pid, written);
    if (snapshots.length > 0) {
      messages.push(`viz record: ${snapshots.length} SIGUSR2 snapshot dump(s): ${snapshots.join(', ')}`);
    }
    if (opts.stats) messages.push(...topFunctionLines(top));
    const signalNote = exit.signal ? `, program killed by ${exit.signal}` : '';
    const procNote = stats.processes > 1 ? ` in ${stats.processes} processes` : '';
    messages.push(
      `viz record: ${stats.kept.toLocaleString('en-US')} events kept, ${stats.overwritten.toLocaleString('en-US')} overwritten, ` +
        `${stats.threads} thread${stats.threads === 1 ? '' : 's'}${procNote}${signalNote} -> ${written}`,
    );
    return {
      exit,
      output: written,
      stats,
      processes: stats.processes,
      lostProcesses,
      messages,
      tempDir: opts.keepTemp ? outDir : undefined,
    };
  } finally {
    if (!opts.keepTemp) rmSync(outDir, { recursive: true, force: true });
  }
}

/** `--stats`: the functions that produced the most events. */
function topFunctionLines(top: TopFunction[]): string[] {
  if (top.length === 0) return [];
  const width = Math.max(...top.map((t) => t.events.toLocaleString('en-US').length));
  return [
    `viz record: the ${top.length} functions with the most events:`,
    ...top.map((t) => `  ${t.events.toLocaleString('en-US').padStart(width)}  ${t.name}`),
  ];
}

/** CLOCK_MONOTONIC ns at a dump's start (header bytes 32..40), for ordering; 0 if unreadable. */
function dumpStartMono(path: string): bigint {
  const buf = Buffer.alloc(40);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    if (readSync(fd, buf, 0, 40, 0) < 40) return 0n;
    return buf.readBigUInt64LE(32);
  } catch {
    return 0n;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The dumps to merge, in file order: processes by start time (the earliest gives the trace its
 * time origin), each followed by the dumps of its JavaScript-fallback workers.
 */
export function orderDumps(dir: string, processDumps: string[], files: string[]): string[] {
  const withStart = processDumps.map((n) => ({ n, start: dumpStartMono(join(dir, n)) }));
  withStart.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: string[] = [];
  for (const { n } of withStart) {
    out.push(join(dir, n));
    const pid = n.slice(0, -DUMP_EXTENSION.length);
    const re = new RegExp(`^${pid}\\.t(\\d+)\\.vizdump$`);
    const workers = files
      .map((f) => ({ f, m: re.exec(f) }))
      .filter((x) => x.m)
      .sort((a, b) => Number(a.m![1]) - Number(b.m![1]));
    for (const { f } of workers) out.push(join(dir, f));
  }
  return out;
}

async function concatenate(parts: string[], target: string): Promise<void> {
  const out = createWriteStream(target);
  for (const p of parts) await pipeline(createReadStream(p), out, { end: false });
  await new Promise<void>((resolveEnd, reject) => {
    out.once('error', reject);
    out.end(() => resolveEnd());
  });
}

/** Move or convert the dump to `output`; returns the path actually written. */
async function deliver(dump: string, output: string, filter?: SliceFilter): Promise<string> {
  if (output.endsWith(DUMP_EXTENSION)) {
    moveFile(dump, output);
    return output;
  }
  await convertDump(dump, output, filter);
  return output;
}

/**
 * SIGUSR2 snapshots (`<pid>.<n>.vizdump`, written while the program ran) go beside the output as
 * `<output stem>.<n>.vizdump`, in their own format: they are ring dumps.
 */
function keepSnapshots(dir: string, pid: number, output: string): string[] {
  const stem = output.endsWith(DUMP_EXTENSION)
    ? output
    : output.replace(/(\.json)?(\.gz)?$/i, '') + DUMP_EXTENSION;
  const kept: string[] = [];
  const re = new RegExp(`^${pid}\\.(\\d+)\\.vizdump$`);
  const names = readdirSync(dir)
    .map((n) => ({ n, m: re.exec(n) }))
    .filter((x) => x.m)
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]));
  for (const { n, m } of names) {
    const target = numberedDumpPath(stem, Number(m![1]));
    try {
      moveFile(join(dir, n), target);
      kept.push(target);
    } catch {
      // an unwritable output directory was reported with the main dump
    }
  }
  return kept;
}

/** Move `from` to the first of `targets` that works; the last error if none does. */
function keepSomewhere(from: string, targets: string[]): string {
  let last: unknown;
  for (const t of targets) {
    try {
      moveFile(from, t);
      return t;
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw outputError(to, err);
    try {
      copyFileSync(from, to);
    } catch (e) {
      throw outputError(to, e);
    }
  }
}

function outputError(path: string, err: unknown): VizError {
  return new VizError('output', `${path}: cannot write: ${(err as Error).message}`);
}

/**
 * Make this process end the way the traced program ended: same exit code, or death by the same
 * signal (so shells and CI see `128 + n`).
 */
export function exitLikeChild(exit: ChildExit): void {
  if (exit.signal) {
    for (const l of process.listeners(exit.signal)) process.removeListener(exit.signal, l);
    process.kill(process.pid, exit.signal);
    // Some signals (SIGUSR1 under inspector, SIGPIPE ignored) do not end us: fall back to 128 + n.
    process.exitCode = 128 + (signalNumber(exit.signal) ?? 0);
    return;
  }
  process.exitCode = exit.code ?? 0;
}

function signalNumber(sig: NodeJS.Signals): number | undefined {
  return (osConstants.signals as Record<string, number | undefined>)[sig];
}

/** `500` (ns), `50ns`, `20us`, `1.5ms`, `2s` -> ns. */
export function parseDuration(text: string, flag = '--min-duration'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?$/.exec(text.trim());
  if (!m) {
    throw new VizError('usage', `${flag} ${text}: not a duration`, ['e.g. 500ns, 50us, 1.5ms, 2s']);
  }
  const scale = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[(m[2] ?? 'ns') as 'ns'];
  return Math.round(Number(m[1]) * scale);
}

export interface SplitArgv {
  /** viz's own flags, for the oclif parser. */
  vizArgv: string[];
  /** The script and its arguments, or the command line after `--`. */
  program: string[];
  command: boolean;
}

/**
 * Split `viz record [flags] script.js [args...]` / `viz record [flags] -- cmd [args...]` before
 * oclif sees it: everything from the script (or after `--`) belongs to the program, including
 * things that look like viz flags (`viz record app.js -o x` passes `-o x` to app.js).
 */
export function splitRecordArgv(
  argv: string[],
  flags: Record<string, { type: string; char?: string }>,
): SplitArgv {
  const takesValue = new Set<string>();
  for (const [name, def] of Object.entries(flags)) {
    if (def.type !== 'option') continue;
    takesValue.add(`--${name}`);
    if (def.char) takesValue.add(`-${def.char}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') return { vizArgv: argv.slice(0, i), program: argv.slice(i + 1), command: true };
    if (arg.startsWith('-') && arg !== '-') {
      if (takesValue.has(arg)) i++;
      continue;
    }
    return { vizArgv: argv.slice(0, i), program: argv.slice(i), command: false };
  }
  return { vizArgv: argv, program: [], command: false };
}
