import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openRingDump } from '../../src/formats/ring/reader.js';
import type { TraceEvent } from '../../src/model/event.js';
import type { TraceSource } from '../../src/model/source.js';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..');
export const DRIVER = join(ROOT, 'test', 'fixtures', 'record', 'driver.mts');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'viz-rec-'));
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  nodeArgs?: string[];
}

function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_OPTIONS; // the tsx hook is given explicitly
  return env;
}

/** Runs `driver.mts <scenario> <dumpPath>` to its end. */
export function runDriver(scenario: string, dumpPath: string, options: RunOptions = {}): RunResult {
  const r = spawnSync(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', DRIVER, scenario, dumpPath],
    {
      cwd: ROOT,
      env: childEnv(options.env),
      encoding: 'utf8',
      timeout: 60000,
    },
  );
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a long-running scenario, sends `signal` once it printed "ready", waits for the end. */
export function runAndSignal(
  scenario: string,
  dumpPath: string,
  signal: NodeJS.Signals,
  options: RunOptions = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', DRIVER, scenario, dumpPath], {
      cwd: ROOT,
      env: childEnv(options.env),
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!sent && stdout.includes('ready')) {
        sent = true;
        setTimeout(() => child.kill(signal), 100); // let it record a little first
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (status, sig) => {
      clearTimeout(timer);
      resolvePromise({ status, signal: sig, stdout, stderr });
    });
  });
}

export async function readAll(source: TraceSource): Promise<TraceEvent[]> {
  const events: TraceEvent[] = [];
  for await (const batch of source.batches()) for (const e of batch) events.push(e);
  return events;
}

/** A dump's events, without the process/thread name `M` events (those are in `source.meta` too). */
export async function readDump(path: string): Promise<{ source: TraceSource; events: TraceEvent[] }> {
  const source = openRingDump(path);
  const events = (await readAll(source)).filter((e) => e.ph !== 'M');
  return { source, events };
}

/** `B fib` style lines, without locations, for sequence comparisons. */
export function shape(events: TraceEvent[]): string[] {
  return events.map((e) => `${e.ph} ${e.name.replace(/ \(.*\)$/, '')}`);
}
