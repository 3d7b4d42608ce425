/**
 * Bounded-memory quantiles of call durations: a log-bucket histogram in the
 * manner of DDSketch (Masson, Rim, Lee, VLDB 2019). A value v > 0 goes to
 * bucket ceil(log_g(v)) with g = (1 + a) / (1 - a); the bucket's representative
 * 2 g^i / (g + 1) is within relative error `a` of every value in it, so every
 * reported quantile is within `a` (1% by default) of the exact value of that
 * rank. Zeros have their own bucket. Memory is one counter per occupied bucket:
 * at most ~1,400 for durations from 1 ns to 1,000 s at 1%, whatever the call count.
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

export class LogHistogram {
  private readonly gamma: number;
  private readonly logGamma: number;
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
    this.gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
    this.logGamma = Math.log(this.gamma);
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

  /** The bucket of a value > 0: ceil(log_gamma(v)). */
  private bucket(v: number): number {
    return Math.ceil(Math.log(v) / this.logGamma);
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
    if (this.count === 0) return Number.NaN;
    const rank = Math.floor(q * (this.count - 1));
    if (this.exact !== undefined) return this.exact.slice().sort((a, b) => a - b)[rank]!;
    if (rank < this.zeros) return 0;
    let seen = this.zeros;
    for (let k = 0; k < this.counts.length; k++) {
      seen += this.counts[k]!;
      if (seen > rank) {
        const v = (2 * Math.pow(this.gamma, this.offset + k)) / (this.gamma + 1);
        return Math.min(this.max, Math.max(this.min, v));
      }
    }
    return this.max;
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
  const h = new LogHistogram();
  for (let i = 0; i <= EXACT_LIMIT; i++) h.add(i * 1000);
  h.add(0);
  h.addRun(Float64Array.of(0, 1e9, 1, 5e3), 0, 4);
}
primeBranches();
