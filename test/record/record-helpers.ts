/**
 * Running samples traced (through the built CLI, as a user would) and untraced, and reading the
 * resulting dump back through the ring reader into per-function counts and a call tree.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRingDump } from '../../src/formats/ring/reader.js';
import type { TraceEvent } from '../../src/model/event.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const SAMPLES = join(ROOT, 'samples', 'record');
export const BIN = join(ROOT, 'bin', 'run.js');

export function requireBuild(): void {
  const preload = join(ROOT, 'dist', 'src', 'record', 'runtime', 'preload.js');
  if (!existsSync(preload) || !existsSync(join(ROOT, 'dist', 'commands', 'record.js'))) {
    throw new Error(`${preload} is missing: run \`npm run build\` first (\`npm test\` does)`);
  }
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'viz-record-test-'));
}

export interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
  signal: NodeJS.Signals | null;
}

function result(r: SpawnSyncReturns<string>): Run {
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, signal: r.signal };
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  // The test runner's own tsx loader must not leak into the programs.
  delete env.NODE_OPTIONS;
  return env;
};

/** `node [--import tsx] <sample> args` without viz. */
export function runPlain(sample: string, args: string[] = [], input?: string): Run {
  const pre = /\.[cm]?ts$/.test(sample) ? ['--import', 'tsx'] : [];
  return result(
    spawnSync(process.execPath, [...pre, join(SAMPLES, sample), ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      input,
      env: baseEnv(),
    }),
  );
}

/** `viz record [vizArgs] <sample> args` (or any argv after `record`). */
export function runViz(
  argv: string[],
  options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Run {
  return result(
    spawnSync(process.execPath, [BIN, 'record', ...argv], {
      cwd: options.cwd ?? ROOT,
      encoding: 'utf8',
      input: options.input,
      env: { ...baseEnv(), ...options.env },
    }),
  );
}

export interface Call {
  /** Function name as the transform gave it: `fib`, `Shape.get name`, `<anonymous>`. */
  name: string;
  /** `file:line:col` of the function's start. */
  where: string;
  parent: Call | undefined;
  children: Call[];
  unclosed: boolean;
}

export interface Trace {
  roots: Call[];
  calls: Call[];
  threads: number;
  signal: unknown;
  overwritten: number;
  /** Ring records the events came from: every event but the `E`s the reader adds for frames still open at the dump. */
  records: number;
}

function split(display: string): { name: string; where: string } {
  const i = display.lastIndexOf(' (');
  return i < 0
    ? { name: display, where: '' }
    : { name: display.slice(0, i), where: display.slice(i + 2, -1) };
}

/** The dump as a call tree (one root list across threads; B/E pairs as the reader emits them). */
export async function readTrace(dumpPath: string): Promise<Trace> {
  const source = openRingDump(dumpPath);
  const stacks = new Map<string, Call[]>();
  const roots: Call[] = [];
  const calls: Call[] = [];
  let records = 0;
  const onEvent = (ev: TraceEvent) => {
    if (ev.ph === 'M') return; // process and thread names: no record of their own
    if (!(ev.ph === 'E' && ev.args.includes('"unclosed"'))) records++;
    const key = `${ev.pid}/${ev.tid}`;
    let stack = stacks.get(key);
    if (!stack) stacks.set(key, (stack = []));
    if (ev.ph === 'B') {
      const parent = stack[stack.length - 1];
      const call: Call = { ...split(ev.name), parent, children: [], unclosed: false };
      (parent ? parent.children : roots).push(call);
      calls.push(call);
      stack.push(call);
    } else if (ev.ph === 'E') {
      const call = stack.pop();
      if (!call) throw new Error(`E without B: ${ev.name}`);
      if (`${call.name} (${call.where})` !== ev.name) throw new Error(`E ${ev.name} closes B ${call.name}`);
      call.unclosed = ev.args.includes('"unclosed"');
    }
  };
  for await (const batch of source.batches()) for (const ev of batch) onEvent(ev);
  return {
    roots,
    calls,
    threads: source.meta.threadNames.size,
    signal: source.meta.topLevel.signal,
    overwritten: source.diagnostics.get('ring_overwritten')?.count ?? 0,
    records: records + (source.diagnostics.get('ring_orphan_exit')?.count ?? 0),
  };
}

/** Calls (B slices) per function name. */
export function countByName(trace: Trace): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of trace.calls) out[c.name] = (out[c.name] ?? 0) + 1;
  return out;
}

/** Calls per `name@parentName` (parent `-` for roots). */
export function countByEdge(trace: Trace): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of trace.calls) {
    const k = `${c.name}@${c.parent?.name ?? '-'}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

export function maxDepth(calls: Call[], depth = 1): number {
  let max = calls.length > 0 ? depth : depth - 1;
  for (const c of calls) max = Math.max(max, maxDepth(c.children, depth + 1));
  return max;
}

/** The `at fn (file:line:col)` lines of a stack trace that point into `dir`. */
export function userFrames(stderr: string, dir: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('at ') && l.includes(dir))
    .map((l) => l.replace('file://', ''));
}
