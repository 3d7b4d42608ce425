/**
 * Puts events into time order with memory bounded by a window, not by the input.
 *
 * Traces arrive in any order: Chrome writes roughly in time order with jitter
 * between threads, VizTracer writes `X` events when they end (children before
 * parents, the root last). The first `window` events are buffered and probed:
 * - if the whole input fits, it is sorted in memory;
 * - if the probe shows only local disorder, the latest `window` events are kept
 *   sorted (insertion into a nearly ordered run, about one comparison per event)
 *   and everything older is emitted; a later event that falls behind what was
 *   already emitted is counted as `late_event` and passed on in place;
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
  /**
   * The caller needs time order only within each thread (pid, tid), as slice
   * nesting does: threads may interleave in any order. Lets locally ordered
   * input stream through small per-thread windows instead of one global
   * window, which is several times cheaper (fewer events held, less sorting).
   */
  perThread?: boolean;
  /**
   * Sort the whole input by time on disk (runs of `window` events spilled to temporary files and
   * merged): exact for any disorder, at the cost of writing and reading every event once more.
   */
  external?: boolean;
  /**
   * What an event that arrives behind the window does: `count` (the default) passes it on in
   * place with a `late_event` error; `throw` stops with a `LateEventError`, for callers that can
   * read their input again with `external`.
   */
  lateEvents?: 'count' | 'throw';
  /** Appended to `late_event` messages: what the user can do about them. */
  lateHint?: string;
  diagnostics: Diagnostics;
}

/** How a consumer that nests slices wants its events ordered (`external`, `lateEvents`, `lateHint`). */
export type Ordering = Pick<OrderOptions, 'external' | 'lateEvents' | 'lateHint'>;

/**
 * An event arrived behind the reorder window. Producers that write each slice when it ends
 * (VizTracer) put a slice after everything inside it, so one long call (the program's root)
 * can come a whole trace late.
 */
export class LateEventError extends Error {
  readonly code = 'late_event';
}

/** By its code, not `instanceof`: the writers that throw it are loaded on demand. */
export function isLateEventError(err: unknown): err is LateEventError {
  return err instanceof Error && (err as { code?: unknown }).code === 'late_event';
}

/**
 * Probe size in per-thread mode: enough to see VizTracer's order and each thread's first
 * disorder; windows widen on their own for disorder that comes later. Small, since the probe is
 * held (and survives the young generation's collections) before any of it streams on: 4,096
 * rather than 16,384 took 19 ms off `viz stats` of a 100,000-event trace.
 */
const THREAD_PROBE = 4096;
/**
 * Smallest per-thread window. Small, so that an event is nested soon after it is read, while it
 * is still in the CPU's cache (with 1,024 the nester's first look at each event was a cache miss:
 * 30 ms of a 160 MB `viz stats` under Node 24, 13 ms with 256). A thread whose disorder grows
 * later widens its window (`ThreadWindows.add`).
 */
const MIN_THREAD_WINDOW = 256;

export const DEFAULT_WINDOW = 200_000;

/**
 * Events per sorted run written to disk. Runs of 200,000 let V8's heap grow to 470 MB on a
 * 2 M-event trace; runs of 65,536 keep it near 270 MB at the same speed (the merge reads a few
 * more files).
 */
const SPILL_RUN = 65_536;

export async function* timeOrdered(
  input: AsyncIterable<EventBatch>,
  options: OrderOptions,
): AsyncGenerator<EventBatch, void, undefined> {
  const window = options.window ?? DEFAULT_WINDOW;
  const batchSize = options.batchSize ?? 4096;
  const iterator = input[Symbol.asyncIterator]();
  // The first events in arrival order (their index is their input position).
  const probe: TraceEvent[] = [];
  let exhausted = false;

  const probeSize = options.perThread && !options.external ? Math.min(window, THREAD_PROBE) : window;
  while (probe.length < probeSize) {
    const next = await iterator.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    appendAll(probe, next.value);
  }
  if (exhausted) {
    // A stable sort: equal keys keep their input order, as `compareEvents` orders them.
    probe.sort(compareUntagged);
    yield* inBatches(probe, batchSize);
    return;
  }
  // `probe` may hold up to one batch more than the window; that is fine.
  const rest: AsyncIterator<EventBatch> = iterator;
  if (options.external) {
    yield* spillOrdered(tagged(probe), rest, Math.min(window, SPILL_RUN), batchSize);
    return;
  }
  const late = new LateEvents(options.diagnostics, options.lateEvents === 'throw', options.lateHint);
  // Per thread: the probe is grouped by thread into the windows it will stream through, so its
  // events are grouped and sorted once (measuring the disorder sorts them).
  const windows = options.perThread ? new ThreadWindows(window, late) : undefined;
  const threads = windows ? windows.hold(probe) : [];
  if (windows && writtenAtEnd(threads)) {
    // The program's root will come last, behind any window: sort on disk from the start (this
    // also serves stdin, which cannot be read a second time).
    options.diagnostics.add(
      'reordered_on_disk',
      'info',
      'slices are written when they end (VizTracer order), so a root comes after everything inside it: events sorted by time on disk',
    );
    yield* spillOrdered(tagged(probe), rest, Math.min(window, SPILL_RUN), batchSize);
    return;
  }
  if (windows) {
    const disorder = threadDisplacement(threads, probe);
    if (disorder <= window >> 2) {
      windows.start(Math.min(window, Math.max(MIN_THREAD_WINDOW, 8 * disorder)));
      probe.length = 0;
      yield* threadOrdered(windows, rest, batchSize);
      return;
    }
  }
  if (isLocallyOrdered(probe, window >> 2)) {
    yield* heapOrdered(probe, rest, window, batchSize, late);
  } else {
    yield* spillOrdered(tagged(probe), rest, Math.min(window, SPILL_RUN), batchSize);
  }
}

/**
 * Appends `batch` to `into` numbered from `seq`; returns the next number. Per-event loops live
 * in plain functions, not in the async generators: see `threadOrdered`.
 */
function tagInto(into: Tagged[], batch: EventBatch, seq: number): number {
  for (let i = 0; i < batch.length; i++) into.push({ ev: batch[i]!, seq: seq++ });
  return seq;
}

/** The probe's events tagged with their input positions (for the global-window paths). */
function tagged(probe: TraceEvent[]): Tagged[] {
  return probe.map((ev, seq) => ({ ev, seq }));
}

function appendAll(held: TraceEvent[], batch: EventBatch): void {
  for (let i = 0; i < batch.length; i++) held.push(batch[i]!);
}

function* inBatches(sorted: TraceEvent[], batchSize: number): Generator<EventBatch> {
  for (let i = 0; i < sorted.length; i += batchSize) yield sorted.slice(i, i + batchSize);
}

/**
 * True when some thread looks written as VizTracer writes: `X` slices only (no `B`/`E`), each
 * written when it ends, so a parent comes after the calls inside it. Threads that open their
 * top-level slices with `B` bound how late an `X` inside can come.
 */
function writtenAtEnd(threads: TraceEvent[][]): boolean {
  return threads.some((list) => {
    let parents = 0;
    let child: TraceEvent | undefined;
    for (const ev of list) {
      if (ev.ph === 'B' || ev.ph === 'E') return false;
      if (ev.ph !== 'X' || ev.dur < 0) continue;
      if (child && ev.ts <= child.ts && ev.ts + ev.dur >= child.ts + child.dur) parents++;
      child = ev;
    }
    return parents > 0;
  });
}

/** True when no event in the probe must move back by more than `maxDisplacement` positions. */
function isLocallyOrdered(probe: TraceEvent[], maxDisplacement: number): boolean {
  const sorted = tagged(probe).sort(compareTagged);
  for (let i = 0; i < sorted.length; i++) {
    // sorted[i] arrived at position seq; moving back from seq to i.
    if (sorted[i]!.seq - i > maxDisplacement) return false;
  }
  return true;
}

/**
 * The largest distance any probe event must move back, within its own thread's sequence, past
 * events that arrived before it (what decides whether a window holds it). Measured with the
 * insertion the ordered path uses afterwards (which V8 then has optimized); past that
 * insertion's budget, by a full sort.
 */
function threadDisplacement(threads: TraceEvent[][], probe: TraceEvent[]): number {
  let max = 0;
  for (const list of threads) {
    // Sorted in place: the windows keep them so. Past the insertion's budget the list is sorted
    // all the same, and its arrival order is taken again from the probe to measure.
    let moved = sortNearlyOrdered(list, 0);
    if (moved < 0) {
      const first = list[0]!;
      moved = displacementBySort(probe.filter((ev) => ev.pid === first.pid && ev.tid === first.tid));
    }
    max = Math.max(max, moved);
  }
  return max;
}

interface ThreadBuffer {
  held: TraceEvent[];
  sortedUpTo: number;
  last: TraceEvent | undefined;
  /** This thread's window: the events it keeps sorted before releasing older ones. */
  window: number;
}

/**
 * Per-thread version of `heapOrdered`: each thread keeps its latest
 * `window` events sorted and emits the older ones; threads interleave in
 * arrival order. A late event is one that sorts before an event of the same
 * thread already emitted.
 */
async function* threadOrdered(
  windows: ThreadWindows,
  rest: AsyncIterator<EventBatch>,
  batchSize: number,
): AsyncGenerator<EventBatch> {
  // The per-event work is in `ThreadWindows`' plain methods: V8 optimizes those early, while an
  // async generator's own loop can run unoptimized for most of the input.
  yield* windows.takeRuns();
  for (;;) {
    const next = await rest.next();
    if (next.done) break;
    windows.addAll(next.value);
    if (windows.runsLength >= batchSize) yield* windows.takeRuns();
  }
  yield* windows.drain();
}

/** The held events of each thread, and the runs they have released in order. */
class ThreadWindows {
  private readonly threads = new Map<TraceEvent['pid'], Map<TraceEvent['tid'], ThreadBuffer>>();
  private readonly runs: TraceEvent[][] = [];
  runsLength = 0;
  private lastBuf: ThreadBuffer | undefined;
  private lastPid: TraceEvent['pid'] | undefined;
  private lastTid: TraceEvent['tid'] | undefined;

  /** Each thread's first window (none is released before `start`). */
  private window = Number.POSITIVE_INFINITY;

  constructor(
    /** The most events a thread's window may grow to. */
    private readonly maxWindow: number,
    private readonly late: LateEvents,
  ) {}

  /** Groups `events` by thread without releasing any; returns each thread's held events, in arrival order. */
  hold(events: TraceEvent[]): TraceEvent[][] {
    for (let i = 0; i < events.length; i++) this.buffer(events[i]!).held.push(events[i]!);
    const lists: TraceEvent[][] = [];
    for (const m of this.threads.values()) for (const b of m.values()) lists.push(b.held);
    return lists;
  }

  /** Every thread's held events are sorted now: from here each thread keeps `window` of them. */
  start(window: number): void {
    this.window = window;
    for (const m of this.threads.values()) {
      for (const b of m.values()) {
        b.window = window;
        b.sortedUpTo = b.held.length;
        this.flush(b, b.held.length - window);
      }
    }
  }

  addAll(batch: EventBatch): void {
    for (let i = 0; i < batch.length; i++) this.add(batch[i]!);
  }

  /** The runs released so far (each thread's run is a batch of its own). */
  takeRuns(): TraceEvent[][] {
    // A copy, and `runs` kept: a fresh `[]` has another elements kind than one holding arrays,
    // and the optimized `add` deoptimized on it at each first push.
    const runs = this.runs.slice();
    this.runs.length = 0;
    this.runsLength = 0;
    return runs;
  }

  /** Everything still held, thread by thread, after the last event. */
  *drain(): Generator<EventBatch> {
    yield* this.takeRuns();
    for (const m of this.threads.values()) {
      for (const b of m.values()) {
        sortNearlyOrdered(b.held, b.sortedUpTo);
        this.flush(b, b.held.length);
        yield* this.takeRuns();
      }
    }
  }

  private add(ev: TraceEvent): void {
    const b = this.buffer(ev);
    b.held.push(ev);
    if (b.held.length - b.sortedUpTo >= b.window) {
      const moved = sortNearlyOrdered(b.held, b.sortedUpTo);
      // Disorder may grow as a trace goes on (longer calls, written when they end, come later
      // after more events): the thread's window keeps 8 times the largest move seen, as the probe
      // set it, so only the threads that need it hold more events.
      if (moved < 0 || moved * 8 > b.window)
        b.window = Math.min(this.maxWindow, Math.max(b.window * 2, moved * 8));
      this.flush(b, b.held.length - b.window);
    }
  }

  private buffer(ev: TraceEvent): ThreadBuffer {
    const last = this.lastBuf;
    if (last !== undefined && ev.pid === this.lastPid && ev.tid === this.lastTid) return last;
    let m = this.threads.get(ev.pid);
    if (!m) this.threads.set(ev.pid, (m = new Map()));
    let b = m.get(ev.tid);
    if (!b) m.set(ev.tid, (b = { held: [], sortedUpTo: 0, last: undefined, window: this.window }));
    this.lastBuf = b;
    this.lastPid = ev.pid;
    this.lastTid = ev.tid;
    return b;
  }

  private flush(b: ThreadBuffer, upTo: number): void {
    if (upTo <= 0) return;
    const held = b.held;
    // The run is sorted: only events before the first one not behind the thread's last
    // emitted event can be late.
    let i = 0;
    if (b.last) {
      for (; i < upTo && isLate(held[i]!, b.last); i++) {
        this.late.add(held[i]!, `later events of its thread beyond the reorder window of ${b.window} events`);
      }
    }
    if (i < upTo) b.last = held[upTo - 1]!;
    this.runs.push(held.slice(0, upTo));
    this.runsLength += upTo;
    b.held = held.slice(upTo);
    b.sortedUpTo = b.held.length;
  }
}

/** Events that arrive behind the window: counted, or the end of this attempt (`lateEvents`). */
class LateEvents {
  constructor(
    private readonly diagnostics: Diagnostics,
    private readonly stop: boolean,
    private readonly hint = '',
  ) {}

  add(ev: TraceEvent, behind: string): void {
    const what = `event "${ev.name}" (${ev.ph}) arrived after ${behind}`;
    if (this.stop) throw new LateEventError(what);
    this.diagnostics.add('late_event', 'error', `${what}; it was processed out of time order${this.hint}`);
  }
}

/**
 * An event that sorts before one already emitted. Events without a time
 * (metadata such as thread names, which ring dumps write last) apply to the
 * whole trace and are never late.
 */
function isLate(ev: TraceEvent, lastEmitted: TraceEvent): boolean {
  return Number.isFinite(ev.ts) && compareUntagged(ev, lastEmitted) < 0;
}

/** `compareEvents` without the input-position tie-break (a stable sort supplies it). */
function compareUntagged(a: TraceEvent, b: TraceEvent): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.ph === 'X' && b.ph === 'X' && a.dur !== b.dur) return b.dur - a.dur;
  return 0;
}

/** The largest distance an event of `list` (in arrival order) moves back when sorted. */
function displacementBySort(list: TraceEvent[]): number {
  const order = list.map((ev, i) => ({ ev, i })).sort((a, b) => compareUntagged(a.ev, b.ev));
  let max = 0;
  for (let k = 0; k < order.length; k++) max = Math.max(max, order[k]!.i - k);
  return max;
}

/**
 * Sorts `a` in place, given that `a[0 .. sortedUpTo)` is already sorted and
 * everything is in input order otherwise. Insertion with binary search (upper
 * bound, so stable) costs about one comparison per element for the nearly
 * ordered input this path gets; past a budget of moves it hands over to the
 * built-in stable sort. Returns how far the insertion moved an element back at
 * most, -1 when it handed over.
 */
function sortNearlyOrdered(a: TraceEvent[], sortedUpTo: number): number {
  let budget = 16 * (a.length - sortedUpTo) + 1024;
  let moved = 0;
  for (let i = Math.max(1, sortedUpTo); i < a.length; i++) {
    const x = a[i]!;
    if (compareUntagged(a[i - 1]!, x) <= 0) continue;
    // Gallop back from i - 1 (the usual displacement is small), then binary search.
    let step = 1;
    let hi = i - 1; // a[hi] > x
    let lo = hi - step;
    while (lo >= 0 && compareUntagged(a[lo]!, x) > 0) {
      hi = lo;
      step <<= 1;
      lo = hi - step;
    }
    lo = lo < 0 ? 0 : lo + 1; // a[lo - 1] <= x (or lo = 0)
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareUntagged(a[mid]!, x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    budget -= i - lo;
    if (budget < 0) {
      a.sort(compareUntagged);
      return -1;
    }
    // Events with no time (metadata, which ring dumps write last) go first and are never late:
    // their moves say nothing about the disorder a window must absorb.
    if (i - lo > moved && Number.isFinite(x.ts)) moved = i - lo;
    for (let k = i; k > lo; k--) a[k] = a[k - 1]!;
    a[lo] = x;
  }
  return moved;
}

/**
 * Local disorder: keep the latest `window` events sorted; after each chunk of
 * `window` new events, emit all but the `window` greatest. An event that
 * sorts before one already emitted is counted as `late_event` and passed on
 * in place. Equal keys keep input order (stable sorting), as `compareEvents`.
 */
async function* heapOrdered(
  probe: TraceEvent[],
  rest: AsyncIterator<EventBatch>,
  window: number,
  batchSize: number,
  late: LateEvents,
): AsyncGenerator<EventBatch> {
  // Stable: equal keys keep their input order.
  let held = probe.sort(compareUntagged);
  let sortedUpTo = held.length;
  let last: TraceEvent | undefined;
  const emit = function* (upTo: number): Generator<EventBatch> {
    for (let i = 0; i < upTo; i += batchSize) {
      const out = held.slice(i, Math.min(upTo, i + batchSize));
      for (const ev of out) {
        if (last && isLate(ev, last))
          late.add(ev, `later events beyond the reorder window of ${window} events`);
        else last = ev;
      }
      yield out;
    }
  };
  for (;;) {
    const next = await rest.next();
    if (next.done) break;
    appendAll(held, next.value);
    if (held.length - sortedUpTo >= window) {
      sortNearlyOrdered(held, sortedUpTo);
      const upTo = held.length - window;
      yield* emit(upTo);
      held = held.slice(upTo);
      sortedUpTo = held.length;
    }
  }
  sortNearlyOrdered(held, sortedUpTo);
  yield* emit(held.length);
}

// Spilled events are JSON lines of [seq, ph, name, cat, ts, dur, pid, tid, id, args, extra, nameId].
type SpilledRow = [
  number,
  string,
  string,
  string,
  number | null,
  number,
  TraceEvent['pid'],
  TraceEvent['tid'],
  string,
  string,
  Record<string, string> | null,
  number,
];

function toRow(t: Tagged): string {
  const e = t.ev;
  const row: SpilledRow = [
    t.seq,
    e.ph,
    e.name,
    e.cat,
    Number.isFinite(e.ts) ? e.ts : null,
    e.dur,
    e.pid,
    e.tid,
    e.id,
    e.args,
    e.extra ?? null,
    e.nameId,
  ];
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
      nameId: r[11],
    },
  };
}

async function* spillOrdered(
  probe: Tagged[],
  rest: AsyncIterator<EventBatch>,
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
    let seq = probe.length;
    for (;;) {
      const next = await rest.next();
      if (next.done) break;
      seq = tagInto(buffer, next.value, seq);
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
  const readers = runs.map((path) =>
    createInterface({ input: createReadStream(path), crlfDelay: Infinity })[Symbol.asyncIterator](),
  );
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
