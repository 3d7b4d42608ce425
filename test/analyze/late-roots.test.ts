import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { foldTrace, foldedLines } from '../../src/analyze/flamegraph/fold.js';
import { stats, type StatsRow } from '../../src/analyze/stats/index.js';
import { detectFormat } from '../../src/formats/registry.js';
import { openInput } from '../../src/io/input.js';
import { convert } from '../../src/ops/convert.js';
import { view } from '../../src/view/session.js';
import { readFileSync } from 'node:fs';
import { chromeJson, generate, writeTemp, type Interval } from './oracle.js';

/**
 * VizTracer writes each call when it ends, so a program's root (`<module>`, `exec`) comes last,
 * after every call inside it: tens of thousands of events behind any reorder window. From a file,
 * the analysers and the converters read such a trace again and sort it on disk; the result must
 * equal the same calls written in time order.
 */
describe('traces whose root is written last (VizTracer order), larger than the reorder window', () => {
  const intervals: Interval[] = generate(11, {
    threads: 2,
    names: ['a', 'b', 'c', 'parse', 'render'],
    maxDepth: 5,
    maxKids: 4,
    roots: 900,
  });
  for (const tid of [1, 2]) {
    const mine = intervals.filter((i) => i.tid === tid);
    const start = Math.min(...mine.map((i) => i.start)) - 1;
    const end = Math.max(...mine.map((i) => i.end)) + 1;
    intervals.push({ tid, name: 'main', start, end });
  }
  const endOrdered = writeTemp(chromeJson(intervals, 'end-ordered', 11));
  const inOrder = writeTemp(chromeJson(intervals, 'sorted', 11));
  const key = (rows: StatsRow[]): unknown[] =>
    rows.map((r) => [r.function, r.calls, r.primitive, r.self, r.total]);

  it('has enough calls to outrun the window', () => {
    assert.ok(intervals.length > 30_000, `${intervals.length} calls`);
  });

  it('viz stats: the same rows as from the trace in time order, sorted on disk', async () => {
    const expected = await stats(inOrder, { progress: false });
    const got = await stats(endOrdered, { progress: false });
    assert.deepEqual(got.rows, expected.rows);
    assert.deepEqual(
      got.diagnostics.map((d) => d.code),
      ['reordered_on_disk'],
    );
    assert.equal(
      got.rows.find((r) => r.function === 'main')?.self,
      expected.rows.find((r) => r.function === 'main')?.self,
    );
  });

  it('viz flamegraph: the same folded stacks', async () => {
    const text = async (path: string): Promise<string> =>
      [...foldedLines((await foldTrace(path, { progress: false })).tree)].join('');
    const expected = await text(inOrder);
    assert.ok(expected.startsWith('main'), expected.slice(0, 40));
    assert.equal(await text(endOrdered), expected);
  });

  it('from a pipe (no second read): late_event errors that say what to do', async () => {
    const input = await openInput(endOrdered);
    const piped = { ...input, reopen: undefined };
    const got = await stats({ input: piped, format: detectFormat(piped) }, { progress: false });
    const late = got.diagnostics.find((d) => d.code === 'late_event');
    assert.ok(late, JSON.stringify(got.diagnostics));
    assert.match(late.message, /"main" \(X\).*given a file rather than a pipe/);
  });

  it('viz convert --to perfetto: the slices nest as in time order', async () => {
    const out = join(tmpdir(), `late-roots-${process.pid}.pftrace`);
    const result = await convert(endOrdered, { to: 'perfetto', output: out, progress: false });
    assert.deepEqual(
      result.diagnostics.list().map((d) => d.code),
      ['reordered_on_disk'],
    );
    const expected = await stats(inOrder, { progress: false });
    assert.deepEqual(key((await stats(out, { progress: false })).rows), key(expected.rows));
  });

  it('viz convert --to speedscope and viz view --export: each thread opens with its root', async () => {
    const out = join(tmpdir(), `late-roots-${process.pid}.speedscope.json`);
    const result = await convert(endOrdered, { to: 'speedscope', output: out, progress: false });
    assert.deepEqual(
      result.diagnostics.list().map((d) => d.code),
      ['reordered_on_disk'],
    );
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      shared: { frames: { name: string }[] };
      profiles: { events: { type: string; frame: number; at: number }[] }[];
    };
    assert.equal(doc.profiles.length, 2);
    for (const p of doc.profiles) {
      // `main` encloses every call of its thread: first to open, last to close.
      const first = p.events[0]!;
      const last = p.events.at(-1)!;
      assert.deepEqual([first.type, doc.shared.frames[first.frame]!.name], ['O', 'main']);
      assert.deepEqual([last.type, doc.shared.frames[last.frame]!.name], ['C', 'main']);
      assert.equal(
        p.events.length,
        2 * intervals.filter((i) => i.tid === doc.profiles.indexOf(p) + 1).length,
      );
    }
    const html = join(tmpdir(), `late-roots-${process.pid}.html`);
    const exported = await view(endOrdered, { export: html, log: () => undefined });
    assert.deepEqual(
      exported.diagnostics.list().map((d) => d.code),
      ['reordered_on_disk'],
    );
    assert.equal(exported.events, 2 * intervals.length);
  });
});
