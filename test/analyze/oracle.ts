/**
 * Independent oracle for the analysers: random well-formed traces, and a
 * brute-force computation of per-function statistics and folded stacks from
 * the complete list of intervals (the call tree is rebuilt by containment,
 * O(n^2), with no stack, no ordering and no shared code).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Interval {
  tid: number;
  name: string;
  /** ns */
  start: number;
  end: number;
}

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenOptions {
  threads: number;
  names: string[];
  maxDepth: number;
  maxKids: number;
  roots: number;
}

/**
 * Random properly nested calls. Rules keep the tree unambiguous under
 * closed-open intervals: a child starting with its parent is strictly shorter;
 * a zero-length call lies strictly inside its parent and is followed by a gap.
 */
export function generate(seed: number, o: GenOptions): Interval[] {
  const r = rng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const out: Interval[] = [];
  const kids = (tid: number, ps: number, pe: number, depth: number): void => {
    if (depth >= o.maxDepth || pe - ps < 2) return;
    let t = ps;
    const n = int(0, o.maxKids);
    for (let k = 0; k < n && t < pe; k++) {
      const s = r() < 0.3 ? t : int(t, Math.min(pe - 1, t + Math.floor((pe - t) / 2)));
      let e = r() < 0.15 ? s : int(s, pe);
      if (e === s && s === ps) e = s + 1; // zero-length only strictly inside
      if (s === ps && e === pe) e = pe - 1; // same start: strictly shorter
      if (e <= s && !(s > ps && s < pe)) continue;
      if (e < s) continue;
      out.push({ tid, name: o.names[int(0, o.names.length - 1)]!, start: s, end: e });
      kids(tid, s, e, depth + 1);
      t = e === s ? e + 1 : e + (r() < 0.5 ? 0 : int(1, 5));
    }
  };
  for (let tid = 1; tid <= o.threads; tid++) {
    let t = int(0, 1000);
    for (let k = 0; k < o.roots; k++) {
      const s = t;
      const e = s + int(1, 100_000);
      out.push({ tid, name: o.names[int(0, o.names.length - 1)]!, start: s, end: e });
      kids(tid, s, e, 1);
      t = e + int(0, 50);
    }
  }
  return out;
}

function contains(p: Interval, c: Interval): boolean {
  if (p === c || p.tid !== c.tid) return false;
  if (!(p.start <= c.start && c.end <= p.end && c.start < p.end)) return false;
  return p.start < c.start || p.end > c.end;
}

export interface OracleFunction {
  calls: number;
  primitive: number;
  self: number;
  total: number;
  durations: number[];
}

export interface OracleResult {
  functions: Map<string, OracleFunction>;
  /** `a;b;c` -> self ns. */
  folded: Map<string, number>;
  rootTime: number;
  selfSum: number;
}

/** Brute force from the full interval list. */
export function oracle(intervals: Interval[]): OracleResult {
  const parent = new Map<Interval, Interval | undefined>();
  for (const c of intervals) {
    let best: Interval | undefined;
    for (const p of intervals) {
      if (!contains(p, c)) continue;
      if (!best || p.end - p.start < best.end - best.start) best = p;
    }
    parent.set(c, best);
  }
  const childTime = new Map<Interval, number>();
  for (const c of intervals) {
    const p = parent.get(c);
    if (p) childTime.set(p, (childTime.get(p) ?? 0) + (c.end - c.start));
  }
  const functions = new Map<string, OracleFunction>();
  const folded = new Map<string, number>();
  let rootTime = 0;
  let selfSum = 0;
  for (const c of intervals) {
    const dur = c.end - c.start;
    const self = dur - (childTime.get(c) ?? 0);
    selfSum += self;
    const chain: string[] = [];
    let recursive = false;
    for (let p = parent.get(c); p; p = parent.get(p)) {
      chain.unshift(p.name);
      if (p.name === c.name) recursive = true;
    }
    if (!parent.get(c)) rootTime += dur;
    const f = functions.get(c.name) ?? { calls: 0, primitive: 0, self: 0, total: 0, durations: [] };
    f.calls++;
    f.self += self;
    f.durations.push(dur);
    if (!recursive) {
      f.primitive++;
      f.total += dur;
    }
    functions.set(c.name, f);
    const path = [...chain, c.name].join(';');
    folded.set(path, (folded.get(path) ?? 0) + self);
  }
  return { functions, folded, rootTime, selfSum };
}

export type Emission = 'sorted' | 'end-ordered' | 'shuffled' | 'begin-end';

/** Chrome JSON text for the intervals: `X` events in the given order, or `B`/`E` pairs in time order. */
export function chromeJson(intervals: Interval[], mode: Emission, seed: number): string {
  const us = (ns: number): string => (ns / 1000).toFixed(3);
  const events: string[] = [];
  for (let tid = 1; tid <= Math.max(0, ...intervals.map((i) => i.tid)); tid++) {
    events.push(`{"ph":"M","name":"thread_name","pid":1,"tid":${tid},"args":{"name":"T${tid}"}}`);
  }
  const x = (i: Interval): string =>
    `{"ph":"X","name":${JSON.stringify(i.name)},"pid":1,"tid":${i.tid},"ts":${us(i.start)},"dur":${us(i.end - i.start)}}`;
  if (mode === 'begin-end') {
    // Per thread, a depth-first walk of the containment tree gives a valid B/E sequence.
    const byTid = new Map<number, Interval[]>();
    for (const i of intervals) byTid.set(i.tid, [...(byTid.get(i.tid) ?? []), i]);
    for (const [tid, list] of byTid) {
      const sorted = list.slice().sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start));
      const open: Interval[] = [];
      const close = (upTo: number): void => {
        while (open.length > 0 && open.at(-1)!.end <= upTo) {
          const o = open.pop()!;
          events.push(`{"ph":"E","pid":1,"tid":${tid},"ts":${us(o.end)}}`);
        }
      };
      for (const i of sorted) {
        // Close everything that ends at or before this start, except a zero-length interval's own parent.
        while (open.length > 0 && !contains(open.at(-1)!, i)) {
          const o = open.pop()!;
          events.push(`{"ph":"E","pid":1,"tid":${tid},"ts":${us(o.end)}}`);
        }
        events.push(`{"ph":"B","name":${JSON.stringify(i.name)},"pid":1,"tid":${tid},"ts":${us(i.start)}}`);
        open.push(i);
      }
      close(Number.POSITIVE_INFINITY);
    }
    return `[${events.join(',\n')}]`;
  }
  let list = intervals.slice();
  if (mode === 'sorted') list.sort((a, b) => a.start - b.start || b.end - b.start - (a.end - a.start));
  else if (mode === 'end-ordered') list.sort((a, b) => a.end - b.end || a.end - a.start - (b.end - b.start));
  else {
    const r = rng(seed ^ 0x5eed);
    for (let i = list.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
  }
  list = list.slice();
  return `{"traceEvents":[${[...events, ...list.map(x)].join(',\n')}]}`;
}

const tmp = mkdtempSync(join(tmpdir(), 'viz-analyze-'));
let n = 0;
export function writeTemp(text: string, ext = '.json'): string {
  const p = join(tmp, `t${n++}${ext}`);
  writeFileSync(p, text);
  return p;
}

/** Exact quantile by the sketch's rank rule: sorted[floor(q * (n - 1))]. */
export function exactQuantile(values: number[], q: number): number {
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.floor(q * (s.length - 1))]!;
}
