import assert from 'node:assert/strict';
import fc from 'fast-check';
import { stats, statsDiff, sortKey, type StatsRow } from '../../src/analyze/stats/index.js';
import { renderStats, renderStatsDiff } from '../../src/analyze/stats/table.js';
import { VizError } from '../../src/model/errors.js';
import { FIXTURES, traceFixtures } from '../support/fixtures.js';
import { nest } from '../support/nest.js';
import { readAll } from '../support/fixtures.js';
import { readChrome } from '../../src/formats/chrome/reader.js';
import { openInput } from '../../src/io/input.js';
import { chromeJson, exactQuantile, generate, oracle, writeTemp, type Emission } from './oracle.js';
import { join } from 'node:path';
import { StatsAggregator } from '../../src/analyze/stats/aggregate.js';
import { walkTrace } from '../../src/analyze/walk.js';
import { readFileSync } from 'node:fs';

function byName(rows: StatsRow[]): Map<string, StatsRow> {
  return new Map(rows.map((r) => [r.function, r]));
}

describe('viz stats', () => {
  describe('against a brute-force oracle on random well-formed traces', () => {
    it('calls, primitive calls, self, total, min, max, mean and percentiles match', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          fc.constantFrom<Emission>('sorted', 'end-ordered', 'shuffled', 'begin-end'),
          fc.constantFrom(undefined, 16, 64),
          fc.integer({ min: 1, max: 3 }),
          async (seed, mode, window, threads) => {
            const intervals = generate(seed, {
              threads,
              names: ['a', 'b', 'c', 'fib'],
              maxDepth: 6,
              maxKids: 4,
              roots: 3,
            });
            const path = writeTemp(chromeJson(intervals, mode, seed));
            const report = await stats(path, { progress: false, window });
            if (report.diagnostics.some((d) => d.code === 'late_event')) {
              // Beyond the reorder window the order is not guaranteed (documented in order.ts); nothing else to check.
              return;
            }
            const o = oracle(intervals);
            const rows = byName(report.rows);
            assert.equal(rows.size, o.functions.size);
            for (const [name, f] of o.functions) {
              const r = rows.get(name);
              assert.ok(r, `missing ${name}`);
              assert.equal(r.calls, f.calls, `${name} calls`);
              assert.equal(r.primitive, f.primitive, `${name} primitive calls`);
              assert.equal(r.self, f.self, `${name} self`);
              assert.equal(r.total, f.total, `${name} total`);
              assert.equal(r.min, Math.min(...f.durations), `${name} min`);
              assert.equal(r.max, Math.max(...f.durations), `${name} max`);
              assert.ok(
                Math.abs(r.mean - f.durations.reduce((x, y) => x + y, 0) / f.calls) < 1e-6,
                `${name} mean`,
              );
              for (const [q, got] of [
                [0.5, r.p50],
                [0.95, r.p95],
                [0.99, r.p99],
              ] as const) {
                const exact = exactQuantile(f.durations, q);
                assert.ok(
                  Math.abs(got - exact) <= 0.0101 * exact,
                  `${name} p${q * 100}: ${got} vs exact ${exact}`,
                );
              }
            }
            assert.equal(report.totalTime, o.rootTime, 'sum of self times = sum of root durations');
            assert.equal(o.selfSum, o.rootTime);
          },
        ),
        { numRuns: 120 },
      );
    });
  });

  it('more distinct names than the reader caches (numbered names evicted and read again): rows equal the oracle', async () => {
    const names = Array.from({ length: 12_000 }, (_, i) => `f${i} (src/m${i % 31}.js:${i})`);
    const intervals = generate(11, { threads: 2, names, maxDepth: 5, maxKids: 3, roots: 1500 });
    const report = await stats(writeTemp(chromeJson(intervals, 'end-ordered', 11)), { progress: false });
    const o = oracle(intervals);
    const rows = byName(report.rows);
    assert.ok(o.functions.size > 5000, String(o.functions.size));
    assert.equal(rows.size, o.functions.size);
    for (const [name, f] of o.functions) {
      const r = rows.get(name);
      assert.ok(r, `missing ${name}`);
      assert.deepEqual(
        [r.calls, r.primitive, r.self, r.total],
        [f.calls, f.primitive, f.self, f.total],
        name,
      );
    }
  });

  describe('pstats rules for recursion', () => {
    it('recursive fib: ncalls total/primitive, cumtime counts the outermost call once', async () => {
      // fib(3) = fib(2) + fib(1); fib(2) = fib(1) + fib(0); one ns per frame of its own.
      const ev = (name: string, ts: number, dur: number): string =>
        `{"ph":"X","name":"${name}","pid":1,"tid":1,"ts":${ts / 1000},"dur":${dur / 1000}}`;
      const trace = `[${[
        ev('main', 0, 100),
        ev('fib', 10, 50), // fib(3)
        ev('fib', 11, 30), // fib(2)
        ev('fib', 12, 5), // fib(1)
        ev('fib', 20, 5), // fib(0)
        ev('fib', 45, 10), // fib(1)
      ].join(',')}]`;
      const report = await stats(writeTemp(trace), { progress: false });
      const fib = byName(report.rows).get('fib')!;
      assert.equal(fib.calls, 5);
      assert.equal(fib.primitive, 1);
      assert.equal(fib.total, 50, 'cumtime: the outermost call only');
      assert.equal(fib.self, 50, 'tottime: all self time of all calls');
      const main = byName(report.rows).get('main')!;
      assert.equal(main.self, 50);
      assert.equal(main.total, 100);
      assert.equal(report.totalTime, 100);
      assert.match(renderStats(report, 'text'), /\b5\/1\b/);
    });

    it('fib15.json (VizTracer, real): 1973 calls, 1 primitive, cumtime = the outermost call', async () => {
      const path = join(FIXTURES, 'viztracer-generated', 'fib15.json');
      const raw = JSON.parse(readFileSync(path, 'utf8')) as {
        traceEvents: Array<{ ph: string; name: string; ts: number; dur: number }>;
      };
      const fibs = raw.traceEvents.filter((e) => e.ph === 'X' && e.name.startsWith('fib ('));
      const outer = fibs.reduce((a, b) => (b.dur > a.dur ? b : a));
      const report = await stats(path, { progress: false });
      const fib = byName(report.rows).get(outer.name)!;
      assert.equal(fib.calls, fibs.length);
      assert.equal(fib.calls, 1973);
      assert.equal(fib.primitive, 1);
      assert.equal(fib.total, Math.round((outer.ts + outer.dur) * 1000) - Math.round(outer.ts * 1000));
      assert.ok(fib.self <= fib.total);
    });

    it('a -> b -> a: both primitive once, a counted once in total, b includes the inner a', async () => {
      const ev = (name: string, ts: number, dur: number): string =>
        `{"ph":"X","name":"${name}","pid":1,"tid":1,"ts":${ts / 1000},"dur":${dur / 1000}}`;
      const trace = `[${[ev('a', 0, 100), ev('b', 10, 80), ev('a', 20, 40)].join(',')}]`;
      const report = await stats(writeTemp(trace), { progress: false, callers: 'a', callees: 'b' });
      const rows = byName(report.rows);
      assert.deepEqual(
        [rows.get('a')!.calls, rows.get('a')!.primitive, rows.get('a')!.total, rows.get('a')!.self],
        [2, 1, 100, 20 + 40],
      );
      assert.deepEqual(
        [rows.get('b')!.calls, rows.get('b')!.primitive, rows.get('b')!.total, rows.get('b')!.self],
        [1, 1, 80, 40],
      );
      assert.deepEqual(
        report.callers!.rows.map((r) => [r.function, r.calls]),
        [['b', 1]],
      );
      assert.deepEqual(
        report.callees!.rows.map((r) => [r.function, r.calls, r.self]),
        [['a', 1, 40]],
      );
    });
  });

  describe('real fixtures', () => {
    for (const fx of traceFixtures()) {
      it(`${fx.name}: per-function numbers equal a brute-force pass over the nested slices`, async () => {
        // Oracle: the complete slice list (shared nesting rules, in memory), then a quadratic
        // computation per slice: children are later-entered slices one level deeper until the
        // next slice at the same or a shallower depth on that thread.
        const events = await readAll(readChrome(await openInput(fx.path)));
        const { slices } = await nest(events);
        const expect = new Map<string, { calls: number; primitive: number; self: number; total: number }>();
        let rootTime = 0;
        for (let i = 0; i < slices.length; i++) {
          const s = slices[i]!;
          const dur = Math.max(0, s.end - s.start);
          let child = 0;
          const ancestors: string[] = [];
          for (let j = i + 1; j < slices.length; j++) {
            const c = slices[j]!;
            if (c.thread !== s.thread) continue;
            if (c.depth <= s.depth) break;
            if (c.depth === s.depth + 1) child += Math.max(0, c.end - c.start);
          }
          let want = s.depth - 1;
          for (let j = i - 1; j >= 0 && want >= 0; j--) {
            const p = slices[j]!;
            if (p.thread === s.thread && p.depth === want) {
              ancestors.push(p.name);
              want--;
            }
          }
          if (s.depth === 0) rootTime += dur;
          const e = expect.get(s.name) ?? { calls: 0, primitive: 0, self: 0, total: 0 };
          e.calls++;
          e.self += dur - child;
          if (!ancestors.includes(s.name)) {
            e.primitive++;
            e.total += dur;
          }
          expect.set(s.name, e);
        }
        const report = await stats(fx.path, { progress: false });
        const rows = byName(report.rows);
        assert.equal(rows.size, expect.size);
        for (const [name, e] of expect) {
          const r = rows.get(name)!;
          assert.ok(r, `missing ${name}`);
          assert.deepEqual(
            [r.calls, r.primitive, r.self, r.total],
            [e.calls, e.primitive, e.self, e.total],
            name,
          );
          assert.ok(r.self >= 0);
        }
        assert.equal(report.totalTime, rootTime);
      });
    }
  });

  describe('VizTracer fixtures (3-decimal microseconds, children overrunning parents)', () => {
    for (const name of ['fib15.json', 'threads.json', 'custom_events.json']) {
      it(`${name}: no negative or missing time; every X event counted`, async () => {
        const path = join(FIXTURES, 'viztracer-generated', name);
        const { events: raw } = (await import('../support/fixtures.js')).oracleEvents(
          (await import('../support/fixtures.js')).fixtureText(path),
        );
        const xs = raw.filter((e) => e.ph === 'X') as Array<{
          name: string;
          ts: number;
          dur: number;
          tid: number;
          pid: number;
        }>;
        const report = await stats(path, { progress: false });
        const rows = byName(report.rows);
        const counts = new Map<string, number>();
        for (const e of xs) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
        for (const [n, c] of counts) assert.equal(rows.get(n)?.calls, c, n);
        for (const r of report.rows) {
          assert.ok(r.self >= 0 && r.total >= 0 && r.min >= 0, `${r.function} has negative time`);
        }
        // Roots by brute force from the raw events: not inside any other X of the thread (by start).
        const ns = (us: number): number => Math.round(us * 1000);
        let rootTime = 0;
        for (const e of xs) {
          const inside = xs.some(
            (p) =>
              p !== e &&
              p.tid === e.tid &&
              p.pid === e.pid &&
              ns(p.ts) <= ns(e.ts) &&
              ns(e.ts) < ns(p.ts) + ns(p.dur) &&
              (ns(p.ts) < ns(e.ts) || ns(p.dur) > ns(e.dur)),
          );
          if (!inside) rootTime += Math.round((e.ts + e.dur) * 1000) - Math.round(e.ts * 1000);
        }
        assert.ok(
          Math.abs(report.totalTime - rootTime) <= xs.length,
          `self sum ${report.totalTime} vs roots ${rootTime}`,
        );
      });
    }
  });

  describe('options and output', () => {
    const ev = (name: string, ts: number, dur: number, tid = 1): string =>
      `{"ph":"X","name":"${name}","pid":1,"tid":${tid},"ts":${ts},"dur":${dur}}`;
    const trace = `[{"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"worker"}},${[ev('main', 0, 100), ev('parse', 10, 30), ev('render (ui.js:12)', 50, 40), ev('job', 0, 70, 2)].join(',')}]`;
    let path: string;
    before(() => {
      path = writeTemp(trace);
    });

    it('sorts by any column, accepts pstats names, limits with --top', async () => {
      assert.equal(sortKey('cumtime'), 'total');
      assert.equal(sortKey('tottime'), 'self');
      assert.equal(sortKey('ncalls'), 'calls');
      assert.throws(() => sortKey('bogus'), VizError);
      const r = await stats(path, { progress: false, sort: 'cumtime', top: 2 });
      assert.deepEqual(
        r.rows.map((x) => x.function),
        ['main', 'job'],
      );
      assert.equal(r.functions, 4);
      const byFn = await stats(path, { progress: false, sort: 'name' });
      assert.deepEqual(
        byFn.rows.map((x) => x.function),
        ['job', 'main', 'parse', 'render (ui.js:12)'],
      );
    });

    it('selects threads by name or tid, filters by regex', async () => {
      const w = await stats(path, { progress: false, threads: ['worker'] });
      assert.deepEqual(
        w.rows.map((x) => x.function),
        ['job'],
      );
      const t1 = await stats(path, { progress: false, threads: ['1'], filter: '^(main|parse)$' });
      assert.deepEqual(t1.rows.map((x) => x.function).sort(), ['main', 'parse']);
      await assert.rejects(stats(path, { progress: false, threads: ['nope'] }), /no thread matches/);
    });

    it('renders text, markdown, CSV and JSON', async () => {
      const r = await stats(path, { progress: false });
      const text = renderStats(r, 'text');
      assert.match(text, /render \(ui\.js:12\)/);
      assert.doesNotMatch(text, /\x1b\[/, 'no colours');
      const lines = text.split('\n');
      // Aligned: the header and the rows put the function column at the same offset.
      const col = lines[1]!.indexOf('function');
      assert.equal(lines[2]!.length > col, true);
      const md = renderStats(r, 'md');
      assert.match(md, /^\| calls \| self \|/);
      const csv = renderStats(r, 'csv').trim().split('\n');
      assert.equal(
        csv[0],
        'calls,self_ns,self_pct,total_ns,total_pct,mean_ns,min_ns,max_ns,p50_ns,p95_ns,p99_ns,function,primitive_calls,file,line',
      );
      assert.equal(csv.length, 5);
      const json = JSON.parse(renderStats(r, 'json')) as { rows: StatsRow[] };
      const render = json.rows.find((x) => x.function === 'render (ui.js:12)')!;
      assert.equal(render.file, 'ui.js');
      assert.equal(render.line, 12);
      assert.equal(render.self, 40_000);
    });

    it('reads file:line and file:line:column from frame names', async () => {
      const { frameLocation } = await import('../../src/analyze/walk.js');
      assert.deepEqual(frameLocation('fib (/a/fib.py:3)'), {
        func: 'fib',
        file: '/a/fib.py',
        line: 3,
        column: undefined,
      });
      assert.deepEqual(frameLocation('main (/w/s/fib.js:7:1)'), {
        func: 'main',
        file: '/w/s/fib.js',
        line: 7,
        column: 1,
      });
      assert.deepEqual(frameLocation('C (C:\\x.js:2:5)'), {
        func: 'C',
        file: 'C:\\x.js',
        line: 2,
        column: 5,
      });
      assert.deepEqual(frameLocation('builtins.len'), { func: 'builtins.len' });
      const row = { function: 'main (/w/s/fib.js:7:1)', file: '/w/s/fib.js', line: 7 };
      const { location } = await import('../../src/analyze/stats/table.js');
      assert.equal(location(row), 'main (/w/s/fib.js:7:1)');
      assert.equal(location({ function: 'f', file: 'a.js', line: 2 }), 'f (a.js:2)');
    });

    it('--diff shows the change per function', async () => {
      const after = writeTemp(`[${[ev('main', 0, 100), ev('parse', 10, 60), ev('new', 80, 10)].join(',')}]`);
      const d = await statsDiff(path, after, {});
      const parse = d.rows.find((r) => r.function === 'parse')!;
      assert.equal(parse.selfDelta, 30_000);
      assert.equal(parse.selfChangePct, 100);
      assert.ok(Number.isNaN(d.rows.find((r) => r.function === 'new')!.selfChangePct));
      assert.equal(d.rows.find((r) => r.function === 'render (ui.js:12)')!.selfAfter, 0);
      assert.match(renderStatsDiff(d, 'text'), /parse/);
      assert.equal(renderStatsDiff(d, 'csv').trim().split('\n').length, 1 + d.rows.length);
    });
  });
});

describe('stats aggregation: durations buffered before their histograms', () => {
  for (const name of ['viztracer-generated/fib15.json', 'viztracer-generated/threads.json']) {
    it(`${name}: flushing every 3 durations gives the histograms of one flush at the end`, async () => {
      const path = join(FIXTURES, name);
      const summary = async (pendingDurations: number | undefined): Promise<unknown[]> => {
        const { handler: agg } = await walkTrace(path, () => new StatsAggregator({ pendingDurations }), {
          progress: false,
        });
        const out: unknown[] = [];
        for (const t of agg.threads.values())
          for (const f of t.funcs.values())
            out.push([
              t.key,
              f.name,
              f.calls,
              f.hist.count,
              f.hist.min,
              f.hist.max,
              ...[0.1, 0.5, 0.9, 0.99].map((q) => f.hist.quantile(q)),
            ]);
        return out;
      };
      const often = await summary(3);
      assert.ok(often.length > 0);
      assert.deepEqual(often, await summary(undefined));
      // ...and the counts are every call's.
      for (const row of often as number[][]) assert.equal(row[2], row[3]);
    });
  }
});

describe('stats aggregation: one histogram per function when threads are reported together', () => {
  it('threads.json and random multi-thread traces: the same rows as per-thread histograms merged', async () => {
    const paths = [join(FIXTURES, 'viztracer-generated/threads.json')];
    for (const seed of [3, 17, 40]) {
      const intervals = generate(seed, {
        threads: 4,
        names: ['a', 'b', 'c', 'd'],
        maxDepth: 5,
        maxKids: 4,
        roots: 30,
      });
      paths.push(writeTemp(chromeJson(intervals, 'end-ordered', seed)));
    }
    for (const path of paths) {
      const merged = await stats(path, { progress: false });
      // Naming every thread keeps the per-thread histograms and merges them afterwards.
      const walk = await walkTrace(path, () => new StatsAggregator(), { progress: false });
      const tids = [...walk.threads.values()].map((t) => String(t.tid));
      assert.ok(tids.length > 1, path);
      const perThread = await stats(path, { progress: false, threads: tids });
      assert.ok(merged.rows.length > 0);
      assert.deepEqual(merged.rows, perThread.rows, path);
    }
  });

  it('shares one histogram per function across threads, holding every call', async () => {
    const path = join(FIXTURES, 'viztracer-generated/threads.json');
    const { handler: agg } = await walkTrace(path, () => new StatsAggregator({ mergeThreads: true }), {
      progress: false,
    });
    const byName = new Map<string, { hist: unknown; calls: number; count: number }>();
    let shared = 0;
    for (const t of agg.threads.values()) {
      for (const f of t.funcs.values()) {
        const seen = byName.get(f.name);
        if (!seen) byName.set(f.name, { hist: f.hist, calls: f.calls, count: f.hist.count });
        else {
          assert.equal(f.hist, seen.hist, f.name);
          seen.calls += f.calls;
          shared++;
        }
      }
    }
    assert.ok(shared > 0, 'some function runs on several threads');
    for (const [name, s] of byName) assert.equal(s.count, s.calls, name);
  });
});
