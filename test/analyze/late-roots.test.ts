import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { foldTrace, foldedLines } from '../../src/analyze/flamegraph/fold.js';
import { stats, type StatsRow } from '../../src/analyze/stats/index.js';
import { detectFormat, type FormatSpec } from '../../src/formats/registry.js';
import { openInput, type Input } from '../../src/io/input.js';
import { convert } from '../../src/ops/convert.js';
import { view } from '../../src/view/session.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { chromeJson, generate, writeTemp, type Interval } from './oracle.js';

/**
 * VizTracer writes each call when it ends, so a program's root (`<module>`, `exec`) comes last,
 * after every call inside it: tens of thousands of events behind any reorder window. Traces that
 * look written that way from their first events are sorted on disk from the start (files and
 * pipes); others whose slices turn out to outrun the window are read again from a file, sorted on
 * disk. Either way the result must equal the same calls written in time order.
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
  // The same with a `startup` B/E pair first on each thread: the first events no longer look
  // VizTracer's, so `main` is only found late, behind the window.
  const startup = [1, 2]
    .map(
      (tid) =>
        `{"ph":"B","name":"startup","pid":1,"tid":${tid},"ts":0},{"ph":"E","pid":1,"tid":${tid},"ts":0.5}`,
    )
    .join(',');
  const withStartup = (path: string): string =>
    writeTemp(readFileSync(path, 'utf8').replace('{"traceEvents":[', `{"traceEvents":[${startup},`));
  const mixed = withStartup(endOrdered);
  const mixedInOrder = withStartup(inOrder);
  const key = (rows: StatsRow[]): unknown[] =>
    rows.map((r) => [r.function, r.calls, r.primitive, r.self, r.total]);
  const pipe = async (path: string): Promise<{ input: Input; format: FormatSpec }> => {
    const input = { ...(await openInput(path)), reopen: undefined };
    return { input, format: detectFormat(input) };
  };
  const codes = (d: { code: string }[]): string[] => d.map((x) => x.code);

  it('has enough calls to outrun the window', () => {
    assert.ok(intervals.length > 30_000, `${intervals.length} calls`);
  });

  it('viz stats, VizTracer order: sorted on disk from the start, from a file or a pipe', async () => {
    const expected = await stats(inOrder, { progress: false });
    assert.deepEqual(codes(expected.diagnostics), []);
    for (const from of [endOrdered, await pipe(endOrdered)]) {
      const got = await stats(from, { progress: false });
      assert.deepEqual(got.rows, expected.rows);
      assert.deepEqual(codes(got.diagnostics), ['reordered_on_disk']);
      assert.match(got.diagnostics[0]!.message, /VizTracer order/);
    }
  });

  it('viz stats, root found late: a file is read again, a pipe gets late_event errors that say what to do', async () => {
    const expected = await stats(mixedInOrder, { progress: false });
    const got = await stats(mixed, { progress: false });
    assert.deepEqual(got.rows, expected.rows);
    assert.deepEqual(codes(got.diagnostics), ['reordered_on_disk']);
    assert.match(
      got.diagnostics[0]!.message,
      /"main" \(X\) arrived after .*read again and sorted by time on disk/,
    );
    // Gzipped, the second read decompresses again.
    const gz = writeTemp('', '.json.gz');
    writeFileSync(gz, gzipSync(readFileSync(mixed)));
    assert.deepEqual((await stats(gz, { progress: false })).rows, expected.rows);
    const piped = await stats(await pipe(mixed), { progress: false });
    const late = piped.diagnostics.find((d) => d.code === 'late_event');
    assert.ok(late, JSON.stringify(piped.diagnostics));
    assert.match(late.message, /"main" \(X\).*given a file rather than a pipe/);
  });

  it('viz flamegraph: the same folded stacks', async () => {
    const text = async (path: string): Promise<string> =>
      [...foldedLines((await foldTrace(path, { progress: false })).tree)].join('');
    const expected = await text(inOrder);
    assert.ok(expected.startsWith('main'), expected.slice(0, 40));
    assert.equal(await text(endOrdered), expected);
    assert.equal(await text(mixed), await text(mixedInOrder));
  });

  it('viz convert --to perfetto, root found late: the slices nest as in time order', async () => {
    const out = join(tmpdir(), `late-roots-${process.pid}.pftrace`);
    const result = await convert(mixed, { to: 'perfetto', output: out, progress: false });
    assert.deepEqual(codes(result.diagnostics.list()), ['reordered_on_disk']);
    const expected = await stats(mixedInOrder, { progress: false });
    assert.deepEqual(key((await stats(out, { progress: false })).rows), key(expected.rows));
  });

  it('viz convert --to speedscope and viz view --export, root found late: each thread opens with its root', async () => {
    const out = join(tmpdir(), `late-roots-${process.pid}.speedscope.json`);
    const result = await convert(mixed, { to: 'speedscope', output: out, progress: false });
    assert.deepEqual(codes(result.diagnostics.list()), ['reordered_on_disk']);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as {
      shared: { frames: { name: string }[] };
      profiles: { events: { type: string; frame: number; at: number }[] }[];
    };
    assert.equal(doc.profiles.length, 2);
    doc.profiles.forEach((p, i) => {
      // `startup`, then `main`, which encloses every other call of its thread and closes last.
      const names = p.events.map((e) => `${e.type} ${doc.shared.frames[e.frame]!.name}`);
      assert.deepEqual(names.slice(0, 3), ['O startup', 'C startup', 'O main']);
      assert.equal(names.at(-1), 'C main');
      assert.equal(p.events.length, 2 + 2 * intervals.filter((x) => x.tid === i + 1).length);
    });
    const html = join(tmpdir(), `late-roots-${process.pid}.html`);
    const exported = await view(mixed, { export: html, log: () => undefined });
    assert.deepEqual(codes(exported.diagnostics.list()), ['reordered_on_disk']);
    assert.equal(exported.events, 4 + 2 * intervals.length);
  });
});
