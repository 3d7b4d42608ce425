/**
 * `viz stats`: one row per function, pstats-style, from one streaming pass.
 */
import { VizError } from '../../model/errors.js';
import { threadKey } from '../../model/event.js';
import type { Diagnostic } from '../../model/diagnostics.js';
import type { Diagnostics } from '../../model/diagnostics.js';
import {
  frameLocation,
  selectsThread,
  threadLabel,
  walkTrace,
  type ThreadSelection,
  type TraceInput,
  type WalkOptions,
} from '../walk.js';
import { StatsAggregator, type FunctionStats } from './aggregate.js';

export interface StatsRow {
  function: string;
  file?: string;
  line?: number;
  calls: number;
  primitive: number;
  /** ns */
  self: number;
  selfPct: number;
  total: number;
  totalPct: number;
  mean: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface EdgeRow {
  function: string;
  calls: number;
  self: number;
  total: number;
}

export interface StatsReport {
  input: string;
  format: string;
  /** Sum of every function's self time = sum of the root slices' durations (ns). */
  totalTime: number;
  /** Functions after `--filter`, before `--top`. */
  functions: number;
  rows: StatsRow[];
  sort: SortKey;
  /** `--callers NAME`: who called NAME; `--callees NAME`: what NAME called. */
  callers?: { target: string[]; rows: EdgeRow[] };
  callees?: { target: string[]; rows: EdgeRow[] };
  relativeAccuracy: number;
  diagnostics: Diagnostic[];
}

export interface StatsOptions extends ThreadSelection, WalkOptions {
  sort?: string;
  top?: number;
  filter?: string;
  callers?: string;
  callees?: string;
}

export const SORT_KEYS = [
  'calls',
  'primitive',
  'self',
  'self%',
  'total',
  'total%',
  'mean',
  'min',
  'max',
  'p50',
  'p95',
  'p99',
  'function',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/** pstats' sort names (and a few obvious spellings) mapped to our columns. */
const SORT_ALIASES: Record<string, SortKey> = {
  ncalls: 'calls',
  call: 'calls',
  pcalls: 'primitive',
  prim: 'primitive',
  tottime: 'self',
  time: 'self',
  cumtime: 'total',
  cumulative: 'total',
  cum: 'total',
  percall: 'mean',
  avg: 'mean',
  name: 'function',
  stdname: 'function',
  filename: 'function',
  file: 'function',
  module: 'function',
  nfl: 'function',
  line: 'function',
  self_pct: 'self%',
  total_pct: 'total%',
};

export function sortKey(name: string | undefined): SortKey {
  if (name === undefined) return 'self';
  const n = name.toLowerCase();
  if ((SORT_KEYS as readonly string[]).includes(n)) return n as SortKey;
  const alias = SORT_ALIASES[n];
  if (alias) return alias;
  throw new VizError('usage', `unknown --sort column "${name}"`, [
    `columns: ${SORT_KEYS.join(', ')}; pstats names: ${Object.keys(SORT_ALIASES).join(', ')}`,
  ]);
}

export function compileRegex(flag: string, source: string | undefined): RegExp | undefined {
  if (source === undefined) return undefined;
  try {
    return new RegExp(source);
  } catch (err) {
    throw new VizError('usage', `${flag}: bad regular expression: ${(err as Error).message}`);
  }
}

/** Aggregated functions of the selected threads, merged. */
export interface Aggregated {
  agg: StatsAggregator;
  funcs: Map<number, FunctionStats>;
  edges: Map<number, Map<number, { calls: number; self: number; total: number }>>;
  input: string;
  format: string;
  diagnostics: Diagnostics;
}

export async function aggregate(from: TraceInput, options: StatsOptions, edges = false): Promise<Aggregated> {
  const makeAggregator = (): StatsAggregator =>
    new StatsAggregator({ edges, mergeThreads: !(options.threads?.length || options.processes?.length) });
  const walk = await walkTrace(from, makeAggregator, options);
  const agg = walk.handler;
  if (agg.negativeSelf > 0) {
    walk.diagnostics.add(
      'negative_self',
      'error',
      `${agg.negativeSelf} slices had children longer than themselves; self time clamped to 0`,
      agg.negativeSelf,
    );
  }
  const funcs = new Map<number, FunctionStats>();
  const allEdges = new Map<number, Map<number, { calls: number; self: number; total: number }>>();
  let selected = 0;
  for (const s of agg.threads.values()) {
    const t = walk.threads.get(threadKey(s.th.pid, s.th.tid));
    if (!t || !selectsThread(options, t)) continue;
    selected++;
    for (const [id, f] of s.funcs) {
      const m = funcs.get(id);
      if (!m) {
        // The per-thread records are not used after this: the first one becomes the merged one.
        funcs.set(id, f);
      } else {
        m.calls += f.calls;
        m.primitive += f.primitive;
        m.self += f.self;
        m.total += f.total;
        m.sumDurations += f.sumDurations;
        if (m.hist !== f.hist) m.hist.merge(f.hist);
      }
    }
    for (const [caller, m] of s.edges ?? []) {
      let dst = allEdges.get(caller);
      if (!dst) allEdges.set(caller, (dst = new Map()));
      for (const [callee, e] of m) {
        const x = dst.get(callee);
        if (x) {
          x.calls += e.calls;
          x.self += e.self;
          x.total += e.total;
        } else dst.set(callee, { ...e });
      }
    }
  }
  if (selected === 0 && (options.threads?.length || options.processes?.length)) {
    const known = [...walk.threads.values()].map(threadLabel).slice(0, 20);
    throw new VizError('usage', `${walk.inputName}: no thread matches --thread/--process`, [
      `threads: ${known.join(', ')}`,
    ]);
  }
  return {
    agg,
    funcs,
    edges: allEdges,
    input: walk.inputName,
    format: walk.format,
    diagnostics: walk.diagnostics,
  };
}

export function toRow(a: Aggregated, id: number, f: FunctionStats, totalTime: number): StatsRow {
  const loc = frameLocation(f.name);
  const fromArgs = a.agg.location(id);
  const pct = (v: number): number => (totalTime > 0 ? (100 * v) / totalTime : 0);
  const [p50, p95, p99] = f.hist.quantiles([0.5, 0.95, 0.99]) as [number, number, number];
  return {
    function: f.name,
    file: loc.file ?? fromArgs?.file,
    line: loc.line ?? fromArgs?.line,
    calls: f.calls,
    primitive: f.primitive,
    self: f.self,
    selfPct: pct(f.self),
    total: f.total,
    totalPct: pct(f.total),
    mean: f.calls > 0 ? f.sumDurations / f.calls : 0,
    min: f.hist.min,
    max: f.hist.max,
    p50,
    p95,
    p99,
  };
}

export function compareRows(key: SortKey): (a: StatsRow, b: StatsRow) => number {
  if (key === 'function') return (a, b) => (a.function < b.function ? -1 : a.function > b.function ? 1 : 0);
  const field: keyof StatsRow = key === 'self%' ? 'selfPct' : key === 'total%' ? 'totalPct' : key;
  return (a, b) =>
    (b[field] as number) - (a[field] as number) ||
    (a.function < b.function ? -1 : a.function > b.function ? 1 : 0);
}

/** Function ids whose name is `name`, or else match it as a regular expression. */
function targets(a: Aggregated, flag: string, name: string): number[] {
  const exact = a.agg.idOf(name);
  if (exact !== undefined) return [exact];
  const re = compileRegex(flag, name)!;
  const ids = a.agg.functionNames.map((n, i) => (re.test(n) ? i : -1)).filter((i) => i >= 0);
  if (ids.length === 0) throw new VizError('usage', `${flag}: no function named or matching "${name}"`);
  return ids;
}

function edgeRows(
  a: Aggregated,
  flag: '--callers' | '--callees',
  name: string,
): { target: string[]; rows: EdgeRow[] } {
  const ids = new Set(targets(a, flag, name));
  const rows = new Map<number, EdgeRow>();
  for (const [caller, m] of a.edges) {
    for (const [callee, e] of m) {
      const hit = flag === '--callers' ? ids.has(callee) : ids.has(caller);
      if (!hit) continue;
      const other = flag === '--callers' ? caller : callee;
      const r = rows.get(other) ?? { function: a.agg.functionNames[other]!, calls: 0, self: 0, total: 0 };
      r.calls += e.calls;
      r.self += e.self;
      r.total += e.total;
      rows.set(other, r);
    }
  }
  return {
    target: [...ids].map((i) => a.agg.functionNames[i]!),
    rows: [...rows.values()].sort((x, y) => y.total - x.total || y.calls - x.calls),
  };
}

export async function stats(from: TraceInput, options: StatsOptions = {}): Promise<StatsReport> {
  const key = sortKey(options.sort);
  const filter = compileRegex('--filter', options.filter);
  const a = await aggregate(from, options, options.callers !== undefined || options.callees !== undefined);
  let totalTime = 0;
  for (const f of a.funcs.values()) totalTime += f.self;
  let rows: StatsRow[] = [];
  for (const [id, f] of a.funcs) {
    if (filter && !filter.test(f.name)) continue;
    rows.push(toRow(a, id, f, totalTime));
  }
  rows.sort(compareRows(key));
  const functions = rows.length;
  if (options.top !== undefined) rows = rows.slice(0, options.top);
  const report: StatsReport = {
    input: a.input,
    format: a.format,
    totalTime,
    functions,
    rows,
    sort: key,
    relativeAccuracy:
      a.agg.threads.values().next().value?.funcs.values().next().value?.hist.relativeAccuracy ?? 0.01,
    diagnostics: a.diagnostics.list(),
  };
  if (options.callers !== undefined) report.callers = edgeRows(a, '--callers', options.callers);
  if (options.callees !== undefined) report.callees = edgeRows(a, '--callees', options.callees);
  return report;
}

export interface DiffRow {
  function: string;
  callsBefore: number;
  callsAfter: number;
  selfBefore: number;
  selfAfter: number;
  selfDelta: number;
  /** Percent change of self time (NaN when new). */
  selfChangePct: number;
  totalBefore: number;
  totalAfter: number;
  totalDelta: number;
}

export interface StatsDiffReport {
  before: string;
  after: string;
  totalBefore: number;
  totalAfter: number;
  functions: number;
  rows: DiffRow[];
  diagnostics: Diagnostic[];
}

export const DIFF_SORT_KEYS = ['delta', 'self', 'total', 'calls', 'function'] as const;

/** Per-function change between two traces, biggest change of self time first. */
export async function statsDiff(
  before: string,
  after: string,
  options: StatsOptions = {},
): Promise<StatsDiffReport> {
  if (before === '-' && after === '-')
    throw new VizError('usage', '--diff: only one of the two inputs can be stdin');
  const filter = compileRegex('--filter', options.filter);
  const a = await aggregate(before, options);
  const b = await aggregate(after, options);
  const rows = new Map<string, DiffRow>();
  const row = (name: string): DiffRow => {
    let r = rows.get(name);
    if (!r) {
      r = {
        function: name,
        callsBefore: 0,
        callsAfter: 0,
        selfBefore: 0,
        selfAfter: 0,
        selfDelta: 0,
        selfChangePct: 0,
        totalBefore: 0,
        totalAfter: 0,
        totalDelta: 0,
      };
      rows.set(name, r);
    }
    return r;
  };
  let totalBefore = 0;
  let totalAfter = 0;
  for (const f of a.funcs.values()) {
    totalBefore += f.self;
    if (filter && !filter.test(f.name)) continue;
    const r = row(f.name);
    r.callsBefore = f.calls;
    r.selfBefore = f.self;
    r.totalBefore = f.total;
  }
  for (const f of b.funcs.values()) {
    totalAfter += f.self;
    if (filter && !filter.test(f.name)) continue;
    const r = row(f.name);
    r.callsAfter = f.calls;
    r.selfAfter = f.self;
    r.totalAfter = f.total;
  }
  for (const r of rows.values()) {
    r.selfDelta = r.selfAfter - r.selfBefore;
    r.totalDelta = r.totalAfter - r.totalBefore;
    r.selfChangePct = r.selfBefore > 0 ? (100 * r.selfDelta) / r.selfBefore : Number.NaN;
  }
  const key = options.sort?.toLowerCase() ?? 'delta';
  const cmp: Record<string, (x: DiffRow, y: DiffRow) => number> = {
    delta: (x, y) => Math.abs(y.selfDelta) - Math.abs(x.selfDelta),
    self: (x, y) => y.selfAfter - x.selfAfter,
    tottime: (x, y) => y.selfAfter - x.selfAfter,
    total: (x, y) => y.totalAfter - x.totalAfter,
    cumtime: (x, y) => y.totalAfter - x.totalAfter,
    calls: (x, y) => y.callsAfter - x.callsAfter,
    ncalls: (x, y) => y.callsAfter - x.callsAfter,
    function: (x, y) => (x.function < y.function ? -1 : 1),
  };
  const c = cmp[key];
  if (!c)
    throw new VizError('usage', `unknown --sort column "${options.sort}" for --diff`, [
      `columns: ${DIFF_SORT_KEYS.join(', ')}`,
    ]);
  let list = [...rows.values()].sort(
    (x, y) => c(x, y) || (x.function < y.function ? -1 : x.function > y.function ? 1 : 0),
  );
  const functions = list.length;
  if (options.top !== undefined) list = list.slice(0, options.top);
  const diagnostics = [...a.diagnostics.list(), ...b.diagnostics.list()];
  return { before: a.input, after: b.input, totalBefore, totalAfter, functions, rows: list, diagnostics };
}
