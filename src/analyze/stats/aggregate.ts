/**
 * Per-function aggregates from the shared nesting path, pstats rules:
 * - `calls` counts every call; `primitive` only calls made while no other call
 *   of the same function was on the thread's stack (not induced by recursion);
 * - `self` (tottime) is time in the function itself, children excluded;
 * - `total` (cumtime) sums the durations of primitive (outermost) calls only,
 *   so recursion is counted once;
 * - the distribution (`mean`, `min`, `max`, quantiles) is over the inclusive
 *   duration of every call.
 * Memory: one record per (thread, function), one histogram each, plus the stacks.
 */
import { threadKey } from '../../model/event.js';
import type { EndReason, OpenSlice, ThreadStack } from '../../model/nesting.js';
import type { TraceEvent } from '../../model/event.js';
import { ThreadNames, type AnalysisHandler } from '../walk.js';
import { parseArgs } from '../../model/event.js';
import { LogHistogram } from './sketch.js';

export interface FunctionStats {
  name: string;
  calls: number;
  primitive: number;
  /** ns */
  self: number;
  /** ns, outermost calls only. */
  total: number;
  /** ns, sum of every call's duration (for the mean). */
  sumDurations: number;
  hist: LogHistogram;
  file?: string;
  line?: number;
}

export interface EdgeStats {
  calls: number;
  /** Self time of the callee in these calls (ns). */
  self: number;
  /** Inclusive time of the callee in these calls, outermost calls of the callee only (ns). */
  total: number;
}

interface ThreadAgg {
  th: ThreadStack;
  key: string;
  funcs: Map<number, FunctionStats>;
  /** The same records, indexed by function id (the hot path's lookup). */
  byId: Array<FunctionStats | undefined>;
  /** Slot of each function's histogram in the pending durations, by function id. */
  histSlot: number[];
  /** Per function id: how many of its calls are on this thread's stack now. */
  active: Int32Array;
  ids: number[];
  childSums: number[];
  /** Caller -> callee -> edge, only when edges are requested. */
  edges: Map<number, Map<number, EdgeStats>> | undefined;
}

export interface AggregateOptions {
  /** Keep caller/callee edges (for `--callers` / `--callees`). */
  edges?: boolean;
  relativeAccuracy?: number;
  /** Durations buffered before they go into their histograms (default 262,144). */
  pendingDurations?: number;
}

/**
 * Durations waiting to go into their histograms. A histogram's bucket array is touched at a
 * random place per call, and with thousands of functions those arrays are not in cache while a
 * trace streams through: durations are appended here (sequential writes) and put in per
 * histogram in bulk, so each array is brought into cache once per flush rather than once per call.
 */
const PENDING = 1 << 18;

export class StatsAggregator implements AnalysisHandler {
  readonly names = new ThreadNames();
  readonly categoriesNeeded = false;
  readonly functionNames: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly locations: Array<{ file?: string; line?: number } | undefined> = [];
  readonly threads = new Map<ThreadStack, ThreadAgg>();
  private last: ThreadAgg | undefined;
  negativeSelf = 0;
  /** Histograms by slot (the `pendingSlot` values). */
  private readonly hists: LogHistogram[] = [];
  private readonly pendingSlot: Int32Array;
  private readonly pendingValue: Float64Array;
  private pending = 0;

  constructor(private readonly options: AggregateOptions = {}) {
    const n = options.pendingDurations ?? PENDING;
    this.pendingSlot = new Int32Array(n);
    this.pendingValue = new Float64Array(n);
  }

  private intern(slice: OpenSlice): number {
    let id = this.ids.get(slice.name);
    if (id === undefined) {
      id = this.functionNames.length;
      this.functionNames.push(slice.name);
      this.ids.set(slice.name, id);
      this.locations.push(argsLocation(slice));
    }
    return id;
  }

  private state(th: ThreadStack): ThreadAgg {
    if (this.last?.th === th) return this.last;
    let s = this.threads.get(th);
    if (!s) {
      s = {
        th,
        key: threadKey(th.pid, th.tid),
        funcs: new Map(),
        byId: [],
        histSlot: [],
        active: new Int32Array(64),
        ids: [],
        childSums: [0],
        edges: this.options.edges ? new Map() : undefined,
      };
      this.threads.set(th, s);
    }
    this.last = s;
    return s;
  }

  enter(slice: OpenSlice): void {
    const s = this.state(slice.thread);
    const id = this.intern(slice);
    if (id >= s.active.length) {
      const grown = new Int32Array(Math.max(id + 1, s.active.length * 2));
      grown.set(s.active);
      s.active = grown;
    }
    s.active[id]!++;
    const d = slice.depth;
    s.ids[d] = id;
    s.childSums[d + 1] = 0;
  }

  other(ev: TraceEvent): void {
    if (ev.ph === 'M') this.names.note(ev);
  }

  /**
   * Args are read for thread names (`M`) and for the location of a function not seen yet (its
   * first call's args; the reader runs ahead of the calls, so it keeps every candidate).
   */
  argsNeeded(ph: string, name: string): boolean {
    return ph === 'M' || !this.ids.has(name);
  }

  exit(slice: OpenSlice, endTs: number, _reason: EndReason): void {
    const s = this.state(slice.thread);
    const d = slice.depth;
    const id = s.ids[d]!;
    const dur = endTs > slice.ts ? endTs - slice.ts : 0;
    let self = dur - s.childSums[d + 1]!;
    if (self < 0) {
      this.negativeSelf++;
      self = 0;
    }
    s.childSums[d]! += dur;
    let f = s.byId[id];
    if (f === undefined) {
      f = {
        name: this.functionNames[id]!,
        calls: 0,
        primitive: 0,
        self: 0,
        total: 0,
        sumDurations: 0,
        hist: new LogHistogram(this.options.relativeAccuracy),
      };
      s.funcs.set(id, f);
      s.byId[id] = f;
      s.histSlot[id] = this.hists.length;
      this.hists.push(f.hist);
    }
    f.calls++;
    f.self += self;
    f.sumDurations += dur;
    this.pendingSlot[this.pending] = s.histSlot[id]!;
    this.pendingValue[this.pending] = dur;
    if (++this.pending === this.pendingSlot.length) this.flushDurations();
    const outermost = --s.active[id]! === 0;
    if (outermost) {
      f.primitive++;
      f.total += dur;
    }
    if (s.edges && d > 0) {
      const caller = s.ids[d - 1]!;
      let m = s.edges.get(caller);
      if (!m) s.edges.set(caller, (m = new Map()));
      let e = m.get(id);
      if (!e) m.set(id, (e = { calls: 0, self: 0, total: 0 }));
      e.calls++;
      e.self += self;
      if (outermost) e.total += dur;
    }
  }

  finish(): void {
    this.flushDurations();
  }

  /** Puts the pending durations into their histograms, grouped by histogram (a counting sort). */
  private flushDurations(): void {
    const n = this.pending;
    if (n === 0) return;
    const slots = this.pendingSlot;
    const values = this.pendingValue;
    const starts = new Int32Array(this.hists.length + 1);
    for (let i = 0; i < n; i++) starts[slots[i]! + 1]!++;
    for (let k = 1; k < starts.length; k++) starts[k]! += starts[k - 1]!;
    const sorted = new Float64Array(n);
    const at = starts.slice(0, -1);
    for (let i = 0; i < n; i++) sorted[at[slots[i]!]!++] = values[i]!;
    for (let k = 0; k < this.hists.length; k++) {
      const h = this.hists[k]!;
      for (let i = starts[k]!; i < starts[k + 1]!; i++) h.add(sorted[i]!);
    }
    this.pending = 0;
  }

  location(id: number): { file?: string; line?: number } | undefined {
    return this.locations[id];
  }

  idOf(name: string): number | undefined {
    return this.ids.get(name);
  }
}

/** `file`/`line` from a slice's args (other producers), read once per distinct function. */
function argsLocation(slice: OpenSlice): { file?: string; line?: number } | undefined {
  const ev = slice.begin;
  if (ev.args === '' || !/"(file|fileName|url|line|lineNumber)"/.test(ev.args)) return undefined;
  try {
    const a = parseArgs(ev);
    const file = a.file ?? a.fileName ?? a.url;
    const line = a.line ?? a.lineNumber;
    if (typeof file !== 'string') return undefined;
    return { file, line: typeof line === 'number' ? line : undefined };
  } catch {
    return undefined;
  }
}
