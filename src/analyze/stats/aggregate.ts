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
import { grown } from '../../model/columns.js';
import { parseArgs, threadKey, type TraceEvent } from '../../model/event.js';
import type { EndReason, OpenSlice, ThreadStack } from '../../model/nesting.js';
import { NameIndex } from '../names.js';
import { ThreadNames, type AnalysisHandler } from '../walk.js';
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

/**
 * One thread's aggregates. While the trace is walked they are columns indexed by a per-thread
 * local function index (contiguous numbers: the per-call updates touch a few cache lines);
 * `funcs` is filled from them by `finish()`.
 */
interface ThreadAgg {
  th: ThreadStack;
  key: string;
  /** Per function id, after `finish()`. */
  funcs: Map<number, FunctionStats>;
  /** Local index + 1 of each function id called on this thread (0: not called here). */
  localOf: Int32Array;
  /** Function id of each local index. */
  funcIds: number[];
  calls: Float64Array;
  primitive: Float64Array;
  self: Float64Array;
  total: Float64Array;
  sumDurations: Float64Array;
  /** Each local function's histogram: its slot in the aggregator's `hists`. */
  histSlot: Int32Array;
  /** Per local function: how many of its calls are on this thread's stack now. */
  active: Int32Array;
  /** Local function index of each open slice, by depth. */
  locals: number[];
  childSums: number[];
  /** Caller -> callee -> edge (function ids), only when edges are requested. */
  edges: Map<number, Map<number, EdgeStats>> | undefined;
}

export interface AggregateOptions {
  /** Keep caller/callee edges (for `--callers` / `--callees`). */
  edges?: boolean;
  relativeAccuracy?: number;
  /** Durations buffered before they go into their histograms (default 65,536). */
  pendingDurations?: number;
  /**
   * The caller reports every thread together: each function gets one duration histogram shared
   * by all threads (fewer, busier histograms), and every thread's `FunctionStats.hist` is that one.
   */
  mergeThreads?: boolean;
}

/**
 * Durations waiting to go into their histograms. A histogram's bucket array is touched at a
 * random place per call, and with thousands of functions those arrays are not in cache while a
 * trace streams through: durations are appended here (sequential writes) and put in per
 * histogram in bulk, so each array is brought into cache once per flush rather than once per call.
 */
const PENDING = 1 << 16;
const FIRST_PENDING = 256;

export class StatsAggregator implements AnalysisHandler {
  readonly names = new ThreadNames();
  readonly categoriesNeeded = false;
  /** Args are read for thread names (`M`) and for a function's location (its first call's args). */
  readonly argsWanted = 'first-per-name';
  private readonly functions = new NameIndex();
  /** Function names by function id. */
  readonly functionNames = this.functions.names;
  private readonly locations: Array<{ file?: string; line?: number } | undefined> = [];
  readonly threads = new Map<ThreadStack, ThreadAgg>();
  private last: ThreadAgg | undefined;
  negativeSelf = 0;
  /** Histograms by slot (the `pendingSlot` values). */
  private readonly hists: LogHistogram[] = [];
  /** With `mergeThreads`: each function id's histogram slot + 1 (0: none yet). */
  private sharedSlot = new Int32Array(64);
  private pendingSlot: Int32Array;
  private pendingValue: Float64Array;
  private readonly pendingSize: number;
  private pending = 0;

  constructor(private readonly options: AggregateOptions = {}) {
    this.pendingSize = options.pendingDurations ?? PENDING;
    // The first flush comes early, while V8 still interprets `exit`: optimized, it then knows the
    // flush and does not deoptimize at the first one. The buffer then grows fourfold per flush:
    // the flush's loops are optimized on small flushes, not while the first full one runs
    // (a first full flush took 22 ms, against 2 ms for the later ones).
    const first = Math.min(this.pendingSize, FIRST_PENDING);
    this.pendingSlot = new Int32Array(first);
    this.pendingValue = new Float64Array(first);
  }

  private intern(slice: OpenSlice): number {
    const id = this.functions.indexOf(slice.name, slice.nameId);
    if (id === this.locations.length) this.locations.push(argsLocation(slice));
    return id;
  }

  private state(th: ThreadStack): ThreadAgg {
    if (this.last?.th === th) return this.last;
    let s = this.threads.get(th);
    if (!s) {
      const n = 16;
      s = {
        th,
        key: threadKey(th.pid, th.tid),
        funcs: new Map(),
        localOf: new Int32Array(64),
        funcIds: [],
        calls: new Float64Array(n),
        primitive: new Float64Array(n),
        self: new Float64Array(n),
        total: new Float64Array(n),
        sumDurations: new Float64Array(n),
        histSlot: new Int32Array(n),
        active: new Int32Array(n),
        locals: [],
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
    if (id >= s.localOf.length) s.localOf = grown(s.localOf, Math.max(id + 1, s.localOf.length * 2));
    let local = s.localOf[id]! - 1;
    if (local < 0) local = this.addLocal(s, id);
    s.active[local]!++;
    const d = slice.depth;
    s.locals[d] = local;
    s.childSums[d + 1] = 0;
  }

  /** A function's first call on a thread: its local index and histogram. */
  private addLocal(s: ThreadAgg, id: number): number {
    const local = s.funcIds.length;
    if (local === s.calls.length) {
      const n = local * 2;
      s.calls = grown(s.calls, n);
      s.primitive = grown(s.primitive, n);
      s.self = grown(s.self, n);
      s.total = grown(s.total, n);
      s.sumDurations = grown(s.sumDurations, n);
      s.histSlot = grown(s.histSlot, n);
      s.active = grown(s.active, n);
    }
    s.funcIds.push(id);
    s.histSlot[local] = this.options.mergeThreads ? this.sharedHistogram(id) : this.newHistogram();
    s.localOf[id] = local + 1;
    return local;
  }

  private newHistogram(): number {
    this.hists.push(new LogHistogram(this.options.relativeAccuracy));
    return this.hists.length - 1;
  }

  private sharedHistogram(id: number): number {
    if (id >= this.sharedSlot.length)
      this.sharedSlot = grown(this.sharedSlot, Math.max(id + 1, this.sharedSlot.length * 2));
    if (this.sharedSlot[id] === 0) this.sharedSlot[id] = this.newHistogram() + 1;
    return this.sharedSlot[id]! - 1;
  }

  other(ev: TraceEvent): void {
    if (ev.ph === 'M') this.names.note(ev);
  }

  exit(slice: OpenSlice, endTs: number, _reason: EndReason): void {
    const s = this.state(slice.thread);
    const d = slice.depth;
    const local = s.locals[d]!;
    const dur = endTs > slice.ts ? endTs - slice.ts : 0;
    let self = dur - s.childSums[d + 1]!;
    if (self < 0) {
      this.negativeSelf++;
      self = 0;
    }
    s.childSums[d]! += dur;
    s.calls[local]!++;
    s.self[local]! += self;
    s.sumDurations[local]! += dur;
    this.pendingSlot[this.pending] = s.histSlot[local]!;
    this.pendingValue[this.pending] = dur;
    if (++this.pending === this.pendingSlot.length) this.flushDurations();
    const outermost = --s.active[local]! === 0;
    if (outermost) {
      s.primitive[local]!++;
      s.total[local]! += dur;
    }
    if (s.edges && d > 0) {
      const caller = s.funcIds[s.locals[d - 1]!]!;
      const callee = s.funcIds[local]!;
      let m = s.edges.get(caller);
      if (!m) s.edges.set(caller, (m = new Map()));
      let e = m.get(callee);
      if (!e) m.set(callee, (e = { calls: 0, self: 0, total: 0 }));
      e.calls++;
      e.self += self;
      if (outermost) e.total += dur;
    }
  }

  /** Puts the last durations in their histograms and fills each thread's `funcs`. */
  finish(): void {
    this.flushDurations();
    for (const s of this.threads.values()) {
      s.funcs = new Map();
      s.funcIds.forEach((id, local) => {
        s.funcs.set(id, {
          name: this.functionNames[id]!,
          calls: s.calls[local]!,
          primitive: s.primitive[local]!,
          self: s.self[local]!,
          total: s.total[local]!,
          sumDurations: s.sumDurations[local]!,
          hist: this.hists[s.histSlot[local]!]!,
        });
      });
    }
  }

  /** Puts the pending durations into their histograms, grouped by histogram (a counting sort). */
  private flushDurations(): void {
    const n = this.pending;
    if (n === 0) return;
    const hists = this.hists;
    // One loop per function: this runs a few times per million calls, and a function whose
    // later loops have not run yet when V8 optimizes its first one is deoptimized there.
    const starts = slotStarts(this.pendingSlot, n, hists.length);
    const sorted = bySlot(this.pendingSlot, this.pendingValue, n, starts);
    addRuns(hists, sorted, starts);
    this.pending = 0;
    if (this.pendingSlot.length < this.pendingSize) {
      const size = Math.min(this.pendingSize, this.pendingSlot.length * 4);
      this.pendingSlot = new Int32Array(size);
      this.pendingValue = new Float64Array(size);
    }
  }

  location(id: number): { file?: string; line?: number } | undefined {
    return this.locations[id];
  }

  idOf(name: string): number | undefined {
    return this.functions.find(name);
  }
}

/** Where each slot's values start once grouped by slot (`slots` holds `n` of `0 .. slotCount - 1`). */
function slotStarts(slots: Int32Array, n: number, slotCount: number): Int32Array {
  const starts = new Int32Array(slotCount + 1);
  for (let i = 0; i < n; i++) starts[slots[i]! + 1]!++;
  return prefixSums(starts);
}

function prefixSums(a: Int32Array): Int32Array {
  for (let k = 1; k < a.length; k++) a[k]! += a[k - 1]!;
  return a;
}

/** `values` grouped by their `slots` (stable), at the positions `starts` gives. */
function bySlot(slots: Int32Array, values: Float64Array, n: number, starts: Int32Array): Float64Array {
  const sorted = new Float64Array(n);
  const at = starts.slice(0, -1);
  for (let i = 0; i < n; i++) sorted[at[slots[i]!]!++] = values[i]!;
  return sorted;
}

function addRuns(hists: LogHistogram[], sorted: Float64Array, starts: Int32Array): void {
  for (let k = 0; k < hists.length; k++) {
    if (starts[k + 1]! > starts[k]!) hists[k]!.addRun(sorted, starts[k]!, starts[k + 1]!);
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
