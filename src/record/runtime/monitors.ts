/**
 * Runtime signals `viz record` can add to the trace, each behind its flag (all off by default):
 * console output (`--log-console`), garbage collections (`--log-gc`), event-loop delay and
 * utilisation (`--log-event-loop`), heap and RSS (`--log-memory`). They only observe: the
 * program's output, timers and exit are unchanged (sampling timers are unref'd).
 */
import {
  constants,
  monitorEventLoopDelay,
  performance,
  PerformanceObserver,
  type PerformanceEntry,
} from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { renderValue } from './render.js';
import type { ThreadEvents } from './events.js';

export interface MonitorOptions {
  console: boolean;
  gc: boolean;
  eventLoop: boolean;
  memory: boolean;
  /** Sampling interval of the event-loop and memory counters, ms. */
  intervalMs: number;
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'] as const;
const TEXT_LIMIT = 4096;

/**
 * Console methods are wrapped to note which one is running; the text itself is taken from
 * what it writes to stdout/stderr, so nothing is formatted twice (a custom inspect runs once).
 */
function logConsole(events: ThreadEvents): void {
  let current: string | undefined;
  const c = console as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const m of CONSOLE_METHODS) {
    const original = c[m];
    if (typeof original !== 'function') continue;
    const wrapped = {
      [m](this: unknown, ...args: unknown[]) {
        const outer = current;
        current = `console.${m}`;
        try {
          return original.apply(this, args);
        } finally {
          current = outer;
        }
      },
    }[m]!;
    c[m] = wrapped;
  }
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write;
    stream.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
      if (current !== undefined) {
        const name = current;
        current = undefined; // one event per console call, even if it writes twice
        const text =
          typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
        const trimmed = text.endsWith('\n') ? text.slice(0, -1) : text;
        events.instant(
          name,
          `{"text":${renderValue(trimmed, { depth: 1, string: TEXT_LIMIT, items: 1, total: TEXT_LIMIT + 64 })}}`,
        );
      }
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
  }
}

const GC_NAMES: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'GC: scavenge (minor)',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'GC: mark-compact (major)',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'GC: incremental marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'GC: weak callbacks',
};

/** CLOCK_MONOTONIC ns at performance.now() == 0 (hrtime is CLOCK_MONOTONIC). */
function monotonicOrigin(): number {
  const before = process.hrtime.bigint();
  const now = performance.now();
  const after = process.hrtime.bigint();
  return Number(before + (after - before) / 2n) - now * 1e6;
}

function logGc(events: ThreadEvents): () => void {
  const origin = monotonicOrigin();
  const take = (entries: PerformanceEntry[]) => {
    for (const e of entries) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      events.gcSlice(
        Math.round(origin + e.startTime * 1e6),
        Math.round(e.duration * 1e6),
        GC_NAMES[kind] ?? `GC: kind ${kind}`,
      );
    }
  };
  const observer = new PerformanceObserver((list) => take(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  // entries not delivered yet when the process ends
  return () => take(observer.takeRecords());
}

function sampleEventLoop(events: ThreadEvents): () => void {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let last = performance.eventLoopUtilization();
  return () => {
    const elu = performance.eventLoopUtilization(last);
    last = performance.eventLoopUtilization();
    if (delay.count > 0) {
      const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
      events.counterJson(
        'event loop delay',
        `{"p50_ms":${ms(delay.percentile(50))},"p99_ms":${ms(delay.percentile(99))},"max_ms":${ms(delay.max)}}`,
      );
      delay.reset();
    }
    events.counterJson(
      'event loop utilization',
      `{"utilization":${Math.round(elu.utilization * 1e4) / 1e4}}`,
    );
  };
}

function sampleMemory(events: ThreadEvents): () => void {
  return () => {
    const m = process.memoryUsage();
    events.counterJson(
      'memory',
      `{"heapUsed":${m.heapUsed},"heapTotal":${m.heapTotal},"rss":${m.rss},"external":${m.external}}`,
    );
  };
}

/** Starts what `options` asks for on this thread; returns what to run just before the exit dump. */
export function startMonitors(events: ThreadEvents, options: MonitorOptions): () => void {
  const atExit: (() => void)[] = [];
  if (options.console) logConsole(events);
  if (options.gc) atExit.push(logGc(events));
  // process-wide figures: sampled on the main thread only
  const samplers: (() => void)[] = [];
  if (isMainThread && options.eventLoop) samplers.push(sampleEventLoop(events));
  if (isMainThread && options.memory) samplers.push(sampleMemory(events));
  if (samplers.length > 0) {
    const sample = () => {
      for (const s of samplers) s();
    };
    sample();
    setInterval(sample, Math.max(1, options.intervalMs)).unref();
    atExit.push(sample);
  }
  return () => {
    for (const f of atExit) {
      try {
        f();
      } catch {
        // an observer that cannot report at exit loses its last samples only
      }
    }
  };
}
