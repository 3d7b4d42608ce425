/**
 * Bounded-memory quantiles of call durations: a log-bucket histogram in the
 * manner of DDSketch (Masson, Rim, Lee, VLDB 2019). Every bucket spans values
 * [lo, hi] with hi / lo <= g = (1 + a) / (1 - a), so its representative
 * 2 lo hi / (lo + hi) is within relative error `a` of every value in it, and every
 * reported quantile is within `a` (1% by default) of the exact value of that
 * rank. Zeros have their own bucket. Memory is one counter per occupied bucket:
 * at most ~1,400 for durations from 1 ns to 1,000 s at 1%, whatever the call count.
 *
 * Bucket boundaries follow DDSketch's cubically interpolated mapping rather than
 * ln(v) / ln(g): log2 v = e + log2(1 + s) (v = 2^e (1 + s), 0 <= s < 1) with
 * log2(1 + s) replaced by a cubic that agrees at s = 0 and s = 1. The exponent comes
 * from `Math.clz32` for the integer nanoseconds durations are, so a value costs a few
 * multiplications instead of `Math.log` (about 8 ns less per call, with a million calls
 * per second of trace to file). The cubic's slope against ln v is at least 10/7 (at
 * s = 0 and s = 2/3), which sets the index scale so buckets stay within g: about 1%
 * more buckets than the exact logarithm would need.
 *
 * Chosen over a library: no dependency, a relative-error guarantee that holds
 * for every quantile (t-digest's error is in rank and unbounded in value for
 * sparse tails), exact merging for `--diff` and multi-thread totals, and
 * deterministic output for tests. Min and max are kept exactly and clamp results.
 *
 * The first `EXACT_LIMIT` values are kept as they are (exact quantiles, and no bucket array for
 * the many functions called only a few times: a trace with a million distinct functions
 * stays small).
 */
const EXACT_LIMIT = 16;
export const DEFAULT_RELATIVE_ACCURACY = 0.01;

const EMPTY = new Float64Array(0);

// The cubic: A s^3 + B s^2 + C s, from 0 at s = 0 to 1 at s = 1.
const A = 6 / 35;
const B = -3 / 5;
const C = 10 / 7;
/** 2^-e for e = 0 .. 31. */
const INVERSE_POWERS = Float64Array.from({ length: 32 }, (_, e) => 2 ** -e);
const TWO_32 = 2 ** 32;

/** e + cubic(s) for v = 2^e (1 + s) > 0: increasing, and within 0.0015 of log2(v). */
function approxLog2(v: number): number {
  let e: number;
  let s: number;
  if (v >= 1 && v < TWO_32) {
    e = 31 - Math.clz32(v);
    s = v * INVERSE_POWERS[e]! - 1;
  } else {
    e = Math.floor(Math.log2(v));
    // Math.log2 may round across a power of two: settle e so that 1 <= v / 2^e < 2.
    if (2 ** e > v) e--;
    else if (2 ** (e + 1) <= v) e++;
    s = v / 2 ** e - 1;
  }
  return ((A * s + B) * s + C) * s + e;
}

/** The value whose `approxLog2` is `t`. */
function approxPow2(t: number): number {
  const e = Math.floor(t);
  const r = t - e;
  // Newton on the cubic, which rises with slope >= 26/35 on [0, 1]: a few steps reach double precision.
  let s = r;
  for (let k = 0; k < 8; k++) {
    const step = (((A * s + B) * s + C) * s - r) / ((3 * A * s + 2 * B) * s + C);
    s -= step;
    if (Math.abs(step) < 1e-16) break;
  }
  return 2 ** e * (1 + Math.min(1, Math.max(0, s)));
}

export class LogHistogram {
  /** Buckets per unit of `approxLog2`. */
  private readonly scale: number;
  /** Counts for buckets `offset .. offset + counts.length - 1`. */
  private counts: Float64Array = EMPTY;
  /** Values kept exactly until there are more than `EXACT_LIMIT`; then undefined. */
  private exact: number[] | undefined = [];
  private offset = 0;
  zeros = 0;
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(readonly relativeAccuracy = DEFAULT_RELATIVE_ACCURACY) {
    const gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    // A hair more buckets than the bound needs: rounding at a bucket's edges stays within `a`.
    this.scale = (1 + 1e-9) / ((10 / 7) * Math.log(gamma));
  }

  add(v: number, n = 1): void {
    this.count += n;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const exact = this.exact;
    if (exact !== undefined) {
      if (exact.length + n <= EXACT_LIMIT) {
        for (let i = 0; i < n; i++) exact.push(v);
        return;
      }
      this.exact = undefined;
      for (const x of exact) this.addToBuckets(x, 1);
    }
    this.addToBuckets(v, n);
  }

  /** Adds `values[from .. to)`, each once: `add` for many values, with the per-call work hoisted. */
  addRun(values: Float64Array, from: number, to: number): void {
    let i = from;
    while (i < to && this.exact !== undefined) this.add(values[i++]!);
    if (i >= to) return;
    const first = i;
    let min = this.min;
    let max = this.max;
    let zeros = 0;
    for (; i < to; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
      if (v <= 0) zeros++;
      else {
        const b = this.bucket(v);
        const k = b - this.offset;
        if (k >= 0 && k < this.counts.length) this.counts[k]!++;
        else this.bump(b, 1);
      }
    }
    this.count += to - first;
    this.min = min;
    this.max = max;
    this.zeros += zeros;
  }

  private addToBuckets(v: number, n: number): void {
    if (v <= 0) {
      this.zeros += n;
      return;
    }
    this.bump(this.bucket(v), n);
  }

  /** The bucket of a value > 0: values v with approxLog2(v) in ((i - 1) / scale, i / scale]. */
  private bucket(v: number): number {
    return Math.ceil(approxLog2(v) * this.scale);
  }

  private bump(i: number, n: number): void {
    const len = this.counts.length;
    if (len === 0) {
      this.counts = new Float64Array(16);
      this.offset = i - 8;
    } else if (i < this.offset || i >= this.offset + len) {
      const lo = Math.min(this.offset, i);
      const hi = Math.max(this.offset + len - 1, i);
      const size = Math.max(hi - lo + 1, len * 2);
      const grown = new Float64Array(size);
      const newOffset = i < this.offset ? hi - size + 1 : lo;
      grown.set(this.counts, this.offset - newOffset);
      this.counts = grown;
      this.offset = newOffset;
    }
    this.counts[i - this.offset]! += n;
  }

  merge(other: LogHistogram): void {
    if (other.relativeAccuracy !== this.relativeAccuracy)
      throw new Error('cannot merge histograms of different accuracy');
    if (other.count === 0) return;
    if (other.exact !== undefined) {
      for (const x of other.exact) this.add(x);
      return;
    }
    if (this.exact !== undefined) {
      const mine = this.exact;
      this.exact = undefined;
      for (const x of mine) this.addToBuckets(x, 1);
    }
    this.count += other.count;
    this.zeros += other.zeros;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    for (let k = 0; k < other.counts.length; k++) {
      const c = other.counts[k]!;
      if (c > 0) this.bump(other.offset + k, c);
    }
  }

  /** The value at quantile q (0..1): the lower of the two middle values' rule, rank = floor(q * (count - 1)). */
  quantile(q: number): number {
    return this.quantiles([q])[0]!;
  }

  /** `quantile` of each of `qs` (ascending), in one pass over the buckets. */
  quantiles(qs: readonly number[]): number[] {
    if (this.count === 0) return qs.map(() => Number.NaN);
    const ranks = qs.map((q) => Math.floor(q * (this.count - 1)));
    if (this.exact !== undefined) {
      const sorted = this.exact.slice().sort((a, b) => a - b);
      return ranks.map((r) => sorted[r]!);
    }
    const out: number[] = [];
    let seen = this.zeros;
    let k = -1; // bucket index; -1: the zeros
    for (const rank of ranks) {
      while (seen <= rank && k + 1 < this.counts.length) seen += this.counts[++k]!;
      if (seen <= rank) out.push(this.max);
      else if (k < 0) out.push(0);
      else out.push(this.representative(this.offset + k));
    }
    return out;
  }

  /** 2 lo hi / (lo + hi) of bucket i's bounds, within min and max. */
  private representative(i: number): number {
    const lo = approxPow2((i - 1) / this.scale);
    const hi = approxPow2(i / this.scale);
    // Written so that it cannot overflow.
    const v = lo * (2 / (1 + lo / hi));
    return Math.min(this.max, Math.max(this.min, v));
  }

  /** Occupied span of buckets (for memory tests). */
  get buckets(): number {
    return this.counts.length;
  }
}

/**
 * Takes `add` and `addRun` through each of their branches once per process, before any trace:
 * zero durations, the exact values' hand-over to buckets, bucket arrays growing down and up.
 * A trace's first zero-length call often comes after V8 has optimized these methods without
 * it, and each such branch then deoptimizes the method in the middle of a flush.
 */
function primeBranches(): void {
  // Several rounds: V8 records type feedback only once a function has been called a few times.
  for (let round = 0; round < 16; round++) {
    const h = new LogHistogram();
    for (let i = 0; i <= EXACT_LIMIT; i++) h.add(i * 1000);
    h.add(0);
    h.addRun(Float64Array.of(0, 1e9, 1, 5e3), 0, 4);
  }
}
primeBranches();
