/**
 * Puts events into time order with memory bounded by a window, not by the input.
 *
 * Traces arrive in any order: Chrome writes roughly in time order with jitter
 * between threads, VizTracer writes `X` events when they end (children before
 * parents, the root last). The first `window` events are buffered and probed:
 * - if the whole input fits, it is sorted in memory;
 * - if the probe shows only local disorder, events stream through a heap of
 *   `window` events (a later event that falls behind what was already emitted is
 *   counted as `late_event` and passed on in place);
 * - otherwise (end-ordered input) runs of `window` events are sorted, spilled to
 *   temporary files, and merged at the end.
 *
 * The order itself is `compareEvents`: time, then, between two `X` events that
 * start together, the longer first (the parent), then input order. Everything
 * else that starts together keeps input order, so a zero-length B/E pair stays
 * a pair.
 */
import { createReadStream, mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Diagnostics } from './diagnostics.js';
import type { EventBatch, TraceEvent } from './event.js';

/** An event tagged with its input position, the final tie-breaker. */
interface Tagged {
  ev: TraceEvent;
  seq: number;
}

export function compareEvents(a: TraceEvent, aSeq: number, b: TraceEvent, bSeq: number): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.ph === 'X' && b.ph === 'X' && a.dur !== b.dur) return b.dur - a.dur;
  return aSeq - bSeq;
}

function compareTagged(a: Tagged, b: Tagged): number {
  return compareEvents(a.ev, a.seq, b.ev, b.seq);
}

export interface OrderOptions {
  /** Events held in memory at once (probe size, heap size, spill run size). */
  window?: number;
  /** Events per emitted batch. */
  batchSize?: number;
  diagnostics: Diagnostics;
}

export const DEFAULT_WINDOW = 200_000;

export async function* timeOrdered(
  input: AsyncIterable<EventBatch>,
  options: OrderOptions,
): AsyncGenerator<EventBatch, void, undefined> {
  const window = options.window ?? DEFAULT_WINDOW;
  const batchSize = options.batchSize ?? 4096;
  const iterator = input[Symbol.asyncIterator]();
  let seq = 0;
  const probe: Tagged[] = [];
  let exhausted = false;

  while (probe.length < window) {
    const next = await iterator.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    for (const ev of next.value) probe.push({ ev, seq: seq++ });
  }
  if (exhausted) {
    probe.sort(compareTagged);
    yield* inBatches(probe, batchSize);
    return;
  }
  // `probe` may hold up to one batch more than the window; that is fine.
  const rest: AsyncIterator<EventBatch> = iterator;
  if (isLocallyOrdered(probe, window >> 2)) {
    yield* heapOrdered(probe, rest, seq, window, batchSize, options.diagnostics);
  } else {
    yield* spillOrdered(probe, rest, seq, window, batchSize);
  }
}

function* inBatches(sorted: Tagged[], batchSize: number): Generator<EventBatch> {
  for (let i = 0; i < sorted.length; i += batchSize) {
    yield sorted.slice(i, i + batchSize).map((t) => t.ev);
  }
}

/** True when no event in the probe must move back by more than `maxDisplacement` positions. */
function isLocallyOrdered(probe: Tagged[], maxDisplacement: number): boolean {
  const sorted = probe.slice().sort(compareTagged);
  for (let i = 0; i < sorted.length; i++) {
    // sorted[i] arrived at position seq; moving back from seq to i.
    if (sorted[i]!.seq - i > maxDisplacement) return false;
  }
  return true;
}

/** Binary min-heap of tagged events. */
class EventHeap {
  readonly items: Tagged[] = [];
  get size(): number {
    return this.items.length;
  }
  push(t: Tagged): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (compareTagged(a[p]!, t) <= 0) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = t;
  }
  pop(): Tagged {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && compareTagged(a[r]!, a[l]!) < 0 ? r : l;
        if (compareTagged(a[c]!, last) >= 0) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

async function* heapOrdered(
  probe: Tagged[],
  rest: AsyncIterator<EventBatch>,
  firstSeq: number,
  window: number,
  batchSize: number,
  diagnostics: Diagnostics,
): AsyncGenerator<EventBatch> {
  const heap = new EventHeap();
  let seq = firstSeq;
  let out: TraceEvent[] = [];
  let last: Tagged | undefined;
  const emit = (t: Tagged): void => {
    if (last && compareTagged(t, last) < 0) {
      diagnostics.add(
        'late_event',
        'error',
        `event "${t.ev.name}" (${t.ev.ph}) arrived after later events beyond the reorder window of ${window} events; it was processed out of time order`,
      );
    } else last = t;
    out.push(t.ev);
  };
  for (const t of probe) heap.push(t);
  for (;;) {
    const next = await rest.next();
    if (next.done) break;
    for (const ev of next.value) {
      heap.push({ ev, seq: seq++ });
      if (heap.size > window) emit(heap.pop());
    }
    if (out.length >= batchSize) {
      yield out;
      out = [];
    }
  }
  while (heap.size > 0) {
    emit(heap.pop());
    if (out.length >= batchSize) {
      yield out;
      out = [];
    }
  }
  if (out.length > 0) yield out;
}

// Spilled events are JSON lines of [seq, ph, name, cat, ts, dur, pid, tid, id, args, extra].
type SpilledRow = [number, string, string, string, number | null, number, TraceEvent['pid'], TraceEvent['tid'], string, string, Record<string, string> | null];

function toRow(t: Tagged): string {
  const e = t.ev;
  const row: SpilledRow = [t.seq, e.ph, e.name, e.cat, Number.isFinite(e.ts) ? e.ts : null, e.dur, e.pid, e.tid, e.id, e.args, e.extra ?? null];
  return JSON.stringify(row);
}

function fromRow(line: string): Tagged {
  const r = JSON.parse(line) as SpilledRow;
  return {
    seq: r[0],
    ev: {
      ph: r[1],
      name: r[2],
      cat: r[3],
      ts: r[4] === null ? Number.NEGATIVE_INFINITY : r[4],
      dur: r[5],
      pid: r[6],
      tid: r[7],
      id: r[8],
      args: r[9],
      extra: r[10] ?? undefined,
    },
  };
}

async function* spillOrdered(
  probe: Tagged[],
  rest: AsyncIterator<EventBatch>,
  firstSeq: number,
  window: number,
  batchSize: number,
): AsyncGenerator<EventBatch> {
  const dir = mkdtempSync(join(tmpdir(), 'viz-sort-'));
  try {
    const runs: string[] = [];
    const spill = (buffer: Tagged[]): void => {
      buffer.sort(compareTagged);
      const path = join(dir, `run-${runs.length}.jsonl`);
      const fd = openSync(path, 'w');
      try {
        let chunk: string[] = [];
        for (const t of buffer) {
          chunk.push(toRow(t));
          if (chunk.length === 4096) {
            writeSync(fd, chunk.join('\n') + '\n');
            chunk = [];
          }
        }
        if (chunk.length > 0) writeSync(fd, chunk.join('\n') + '\n');
      } finally {
        closeSync(fd);
      }
      runs.push(path);
    };
    let buffer = probe;
    let seq = firstSeq;
    for (;;) {
      const next = await rest.next();
      if (next.done) break;
      for (const ev of next.value) buffer.push({ ev, seq: seq++ });
      if (buffer.length >= window) {
        spill(buffer);
        buffer = [];
      }
    }
    if (buffer.length > 0) spill(buffer);
    buffer = [];
    yield* mergeRuns(runs, batchSize);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function* mergeRuns(runs: string[], batchSize: number): AsyncGenerator<EventBatch> {
  const readers = runs.map((path) => createInterface({ input: createReadStream(path), crlfDelay: Infinity })[Symbol.asyncIterator]());
  // Heap of (head event, reader index).
  const heads: { t: Tagged; reader: number }[] = [];
  const less = (a: { t: Tagged }, b: { t: Tagged }): boolean => compareTagged(a.t, b.t) < 0;
  const siftDown = (i: number): void => {
    const n = heads.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && less(heads[r]!, heads[l]!) ? r : l;
      if (!less(heads[c]!, heads[i]!)) return;
      [heads[c], heads[i]] = [heads[i]!, heads[c]!];
      i = c;
    }
  };
  for (let i = 0; i < readers.length; i++) {
    const line = await readers[i]!.next();
    if (!line.done) heads.push({ t: fromRow(line.value), reader: i });
  }
  for (let i = (heads.length >> 1) - 1; i >= 0; i--) siftDown(i);
  let out: TraceEvent[] = [];
  while (heads.length > 0) {
    const top = heads[0]!;
    out.push(top.t.ev);
    if (out.length >= batchSize) {
      yield out;
      out = [];
    }
    const line = await readers[top.reader]!.next();
    if (line.done) {
      const last = heads.pop()!;
      if (heads.length > 0) {
        heads[0] = last;
        siftDown(0);
      }
    } else {
      heads[0] = { t: fromRow(line.value), reader: top.reader };
      siftDown(0);
    }
  }
  if (out.length > 0) yield out;
}
