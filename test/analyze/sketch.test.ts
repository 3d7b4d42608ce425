import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LogHistogram } from '../../src/analyze/stats/sketch.js';
import { exactQuantile } from './oracle.js';

describe('LogHistogram (quantile sketch)', () => {
  // Integer nanoseconds, as durations are, and any positive double (below 1, beyond 2^32, subnormal).
  const values = fc.array(
    fc.oneof(
      fc.constant(0),
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1, max: 1e12 }),
      fc.double({ min: Number.MIN_VALUE, max: 1e300, noNaN: true }),
      fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
    ),
    { minLength: 1, maxLength: 300, size: 'max' },
  );

  it('every quantile is within 1% of the exact value of that rank, min and max exact', () => {
    fc.assert(
      fc.property(values, (vs) => {
        const h = new LogHistogram();
        for (const v of vs) h.add(v);
        assert.equal(h.count, vs.length);
        assert.equal(h.min, Math.min(...vs));
        assert.equal(h.max, Math.max(...vs));
        const qs = [0, 0.1, 0.5, 0.9, 0.95, 0.99, 1];
        const all = h.quantiles(qs);
        qs.forEach((q, i) => {
          const exact = exactQuantile(vs, q);
          const got = h.quantile(q);
          assert.ok(Math.abs(got - exact) <= 0.01 * exact + 1e-9, `q=${q}: ${got} vs ${exact}`);
          assert.equal(all[i], got, `quantiles() in one pass, q=${q}`);
        });
      }),
    );
  });

  it('few values are kept exactly (no buckets); merging gives the same as adding everything to one', () => {
    const small = new LogHistogram();
    for (const v of [5, 1, 3]) small.add(v);
    assert.equal(small.buckets, 0);
    assert.equal(small.quantile(0.5), 3);
    fc.assert(
      fc.property(values, values, (a, b) => {
        const ha = new LogHistogram();
        const hb = new LogHistogram();
        const all = new LogHistogram();
        for (const v of a) {
          ha.add(v);
          all.add(v);
        }
        for (const v of b) {
          hb.add(v);
          all.add(v);
        }
        ha.merge(hb);
        assert.equal(ha.count, all.count);
        for (const q of [0, 0.5, 0.95, 0.99, 1]) {
          const exact = exactQuantile([...a, ...b], q);
          assert.ok(Math.abs(ha.quantile(q) - exact) <= 0.01 * exact + 1e-9);
        }
      }),
    );
  });

  it('memory stays bounded by the value range, not the count', () => {
    const h = new LogHistogram();
    for (let i = 0; i < 200_000; i++) h.add(1 + ((i * 7919) % 1_000_000_000));
    assert.ok(h.buckets < 2200, String(h.buckets));
  });

  it('addRun gives the same histogram as adding the values one by one (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constant(0),
            fc.integer({ min: 1, max: 2e9 }),
            fc.double({ min: 0, max: 1e6, noNaN: true }),
          ),
          {
            maxLength: 300,
            size: 'max',
          },
        ),
        fc.integer({ min: 0, max: 40 }),
        (values, before) => {
          const one = new LogHistogram();
          const run = new LogHistogram();
          // Some values first, so runs start in the exact phase or past it.
          for (let i = 0; i < Math.min(before, values.length); i++) {
            one.add(values[i]!);
            run.add(values[i]!);
          }
          const rest = values.slice(Math.min(before, values.length));
          for (const v of rest) one.add(v);
          run.addRun(Float64Array.from([-1, ...rest, -1]), 1, rest.length + 1);
          for (const h of [one, run]) assert.equal(h.count, values.length);
          assert.deepEqual(
            [run.min, run.max, run.zeros, run.buckets],
            [one.min, one.max, one.zeros, one.buckets],
          );
          for (const q of [0, 0.1, 0.5, 0.9, 0.95, 0.99, 1]) assert.equal(run.quantile(q), one.quantile(q));
        },
      ),
      { numRuns: 300 },
    );
  });
});
