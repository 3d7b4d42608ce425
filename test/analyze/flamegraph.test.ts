import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { foldTrace, foldedLines, foldedSize } from '../../src/analyze/flamegraph/fold.js';
import { flamegraph, loadTree } from '../../src/analyze/flamegraph/index.js';
import { frameColor, renderSvg } from '../../src/analyze/flamegraph/render-svg.js';
import { FrameTree, computeTotals, reverseTree, treeTotal } from '../../src/analyze/flamegraph/tree.js';
import { sniffFolded, parseFoldedLine } from '../../src/formats/folded/parse.js';
import { openInput } from '../../src/io/input.js';
import { detectFormat } from '../../src/formats/registry.js';
import { stats } from '../../src/analyze/stats/index.js';
import { FIXTURES } from '../support/fixtures.js';
import { chromeJson, generate, oracle, writeTemp, type Emission } from './oracle.js';

async function folded(
  path: string,
  options: Parameters<typeof foldTrace>[1] = {},
): Promise<Map<string, number>> {
  const { tree } = await foldTrace(path, { progress: false, ...options });
  const out = new Map<string, number>();
  for (const chunk of foldedLines(tree)) {
    for (const line of chunk.split('\n')) {
      if (line === '') continue;
      const sp = line.lastIndexOf(' ');
      out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
    }
  }
  return out;
}

const ev = (name: string, ts: number, dur: number, tid = 1): string =>
  `{"ph":"X","name":"${name}","pid":1,"tid":${tid},"ts":${ts / 1000},"dur":${dur / 1000}}`;

describe('flame graph folding', () => {
  it('equals the brute-force folded stacks of random well-formed traces', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom<Emission>('sorted', 'end-ordered', 'shuffled', 'begin-end'),
        fc.constantFrom(undefined, 16),
        async (seed, mode, window) => {
          const intervals = generate(seed, {
            threads: 2,
            names: ['a', 'b', 'c'],
            maxDepth: 5,
            maxKids: 4,
            roots: 3,
          });
          const got = await folded(writeTemp(chromeJson(intervals, mode, seed)), { window });
          const o = oracle(intervals);
          const want = new Map([...o.folded].filter(([, v]) => v > 0));
          assert.deepEqual(got, want);
          let sum = 0;
          for (const v of got.values()) {
            assert.ok(v > 0);
            sum += v;
          }
          assert.equal(sum, o.rootTime, 'folded weights add up to the root durations');
        },
      ),
      { numRuns: 80 },
    );
  });

  it('more distinct names than the reader caches: the brute-force folded stacks', async () => {
    const names = Array.from({ length: 12_000 }, (_, i) => `f${i} (src/m${i % 31}.js:${i})`);
    const intervals = generate(12, { threads: 2, names, maxDepth: 5, maxKids: 3, roots: 1500 });
    const got = await folded(writeTemp(chromeJson(intervals, 'sorted', 12)), {});
    const want = new Map([...oracle(intervals).folded].filter(([, v]) => v > 0));
    assert.ok(want.size > 5000, String(want.size));
    assert.deepEqual(got, want);
  });

  it('VizTracer fixtures: no negative counts, weights add up to the stats total', async () => {
    for (const name of ['fib15.json', 'threads.json', 'custom_events.json']) {
      const path = join(FIXTURES, 'viztracer-generated', name);
      const f = await folded(path);
      let sum = 0;
      for (const [stack, v] of f) {
        assert.ok(Number.isInteger(v) && v > 0, `${stack} ${v}`);
        sum += v;
      }
      const s = await stats(path, { progress: false });
      assert.equal(sum, s.totalTime, name);
    }
  });

  it('clips a child that overruns its parent by rounding (never a negative count)', async () => {
    // The child ends 0.001 us after its parent, as VizTracer's rounding produces.
    const trace = `[{"ph":"X","name":"p","pid":1,"tid":1,"ts":1.000,"dur":2.000},{"ph":"X","name":"c","pid":1,"tid":1,"ts":1.500,"dur":1.501}]`;
    const f = await folded(writeTemp(trace));
    assert.deepEqual(
      [...f],
      [
        ['p', 500],
        ['p;c', 1500],
      ],
    );
  });

  it('selects threads, collapses recursion, limits depth, includes and excludes', async () => {
    const path = writeTemp(
      `[{"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"worker"}},${[
        ev('main', 0, 100),
        ev('a', 10, 50),
        ev('a', 20, 30),
        ev('b', 25, 10),
        ev('c', 70, 20),
        ev('job', 0, 40, 2),
        ev('a', 5, 10, 2),
      ].join(',')}]`,
    );
    assert.deepEqual(
      [...(await folded(path, { threads: ['worker'] }))],
      [
        ['job', 30],
        ['job;a', 10],
      ],
    );
    assert.deepEqual(
      [...(await folded(path, { threads: ['1'], collapseRecursion: true }))],
      [
        ['main', 30],
        ['main;a', 40],
        ['main;a;b', 10],
        ['main;c', 20],
      ],
    );
    assert.deepEqual(
      [...(await folded(path, { threads: ['1'], maxDepth: 2 }))],
      [
        ['main', 30],
        ['main;a', 50],
        ['main;c', 20],
      ],
    );
    assert.deepEqual([...(await folded(path, { include: /^b$/ }))], [['main;a;a;b', 10]]);
    assert.deepEqual(
      [...(await folded(path, { exclude: /^a$/ }))],
      [
        ['job', 30],
        ['main', 30],
        ['main;c', 20],
      ],
    );
    const perThread = await folded(path, { perThread: true });
    assert.equal(perThread.get('worker (1/2);job'), 30);
    assert.equal(perThread.get('1/1;main'), 30);
  });

  it('--unit us rounds each stack to microseconds', async () => {
    const { tree } = await foldTrace(writeTemp(`[${ev('main', 0, 2600)},${ev('x', 100, 1000)}]`), {
      progress: false,
    });
    assert.equal([...foldedLines(tree, { unit: 'us' })].join(''), 'main 2\nmain;x 1\n');
  });

  it('handles stacks far deeper than the JavaScript call stack', async () => {
    const D = 30_000;
    const evs: string[] = [];
    for (let i = 0; i < D; i++) evs.push(`{"ph":"B","name":"f${i % 3}","pid":1,"tid":1,"ts":${i}}`);
    for (let i = D - 1; i >= 0; i--) evs.push(`{"ph":"E","pid":1,"tid":1,"ts":${2 * D - i}}`);
    const path = writeTemp(`[${evs.join(',')}]`);
    const { tree } = await foldTrace(path, { progress: false, include: /^f1$/, maxDepth: D });
    // The root frame alone has no f1: its self time is dropped, the rest is kept.
    assert.equal(treeTotal(tree), 2 * D * 1000 - 2000);
    const parts: string[] = [];
    assert.equal(renderSvg(tree, { minWidth: 0 }, (c) => parts.push(c)).frames, D);
  });

  it('foldedSize is the exact size of the folded text; too large a folded output is refused', async () => {
    const t = await foldTrace(
      writeTemp(`[${ev('main', 0, 2600)},${ev('x;y', 100, 1000)},${ev('é', 1200, 10)}]`),
      { progress: false },
    );
    assert.equal(foldedSize(t.tree), Buffer.byteLength([...foldedLines(t.tree)].join('')));
    assert.equal(
      foldedSize(t.tree, { unit: 'us' }),
      Buffer.byteLength([...foldedLines(t.tree, { unit: 'us' })].join('')),
    );
    const D = 3000;
    const evs: string[] = [];
    for (let i = 0; i < D; i++) evs.push(`{"ph":"B","name":"frame${i}","pid":1,"tid":1,"ts":${i}}`);
    for (let i = D - 1; i >= 0; i--) evs.push(`{"ph":"E","pid":1,"tid":1,"ts":${2 * D - i}}`);
    const deep = writeTemp(`[${evs.join(',')}]`);
    process.env.VIZ_MAX_FOLDED_MB = '1';
    try {
      await assert.rejects(
        flamegraph(deep, { output: writeTemp('', '.folded'), progress: false }),
        /would take .* GiB.*nothing written/,
      );
      await flamegraph(deep, { output: writeTemp('', '.folded'), maxDepth: 100, progress: false });
    } finally {
      delete process.env.VIZ_MAX_FOLDED_MB;
    }
  });

  it('escapes separators in frame names', async () => {
    const f = await folded(writeTemp(`[{"ph":"X","name":"a;b\\nc","pid":1,"tid":1,"ts":0,"dur":1}]`));
    assert.deepEqual([...f.keys()], ['a:b c']);
  });
});

describe('folded format', () => {
  it('sniffs folded lines and not JSON', () => {
    assert.equal(sniffFolded(Buffer.from('a;b;c 12\na;b 3\n')), true);
    assert.equal(sniffFolded(Buffer.from('main 5\n')), true);
    assert.equal(sniffFolded(Buffer.from('[{"ph":"X"}]')), false);
    assert.equal(sniffFolded(Buffer.from('a;b;c\n')), false);
    assert.equal(sniffFolded(Buffer.from('')), false);
  });

  it('parses one- and two-count lines', () => {
    const l = { stack: '', count: 0, before: Number.NaN };
    assert.equal(parseFoldedLine('a b;c d 12', l), true);
    assert.deepEqual([l.stack, l.count], ['a b;c d', 12]);
    assert.equal(parseFoldedLine('a;b 10 12', l), true);
    assert.deepEqual([l.stack, l.before, l.count], ['a;b', 10, 12]);
    assert.equal(parseFoldedLine('nonumber', l), false);
    assert.equal(parseFoldedLine('a;b -3', l), false);
  });

  it('is detected by content and by the .folded extension', async () => {
    const path = writeTemp('a;b 3\na 1\n', '.folded');
    assert.equal(detectFormat(await openInput(path)).name, 'folded');
    const noExt = writeTemp('x;y 3\n', '.txt');
    assert.equal(detectFormat(await openInput(noExt)).name, 'folded');
  });

  it('trace -> folded -> folded again is stable, through the registry reader and the fast path', async () => {
    const intervals = generate(7, { threads: 1, names: ['a', 'b', 'c'], maxDepth: 5, maxKids: 4, roots: 4 });
    const first = await folded(writeTemp(chromeJson(intervals, 'shuffled', 7)));
    const text = [...first].map(([k, v]) => `${k} ${v}`).join('\n') + '\n';
    const path = writeTemp(text, '.folded');
    // Registry reader: folded -> B/E slices -> fold.
    assert.deepEqual(await folded(path), first);
    // Fast path used by viz flamegraph.
    const out = writeTemp('', '.folded');
    await flamegraph(path, { output: out, progress: false });
    assert.equal(readFileSync(out, 'utf8'), text);
    // Stats over a folded file: self times are the counts.
    const s = await stats(path, { progress: false });
    assert.equal(
      s.totalTime,
      [...first.values()].reduce((x, y) => x + y, 0),
    );
  });

  it('the fast path merges stacks exactly as a naive aggregation does, in any line order', async () => {
    const frame = fc.constantFrom('a', 'b', 'ab', 'a b', 'c', 'b;'.slice(0, 1));
    const line = fc.tuple(fc.array(frame, { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 50 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        async (lines, sortThem) => {
          const list = lines.map(([frames, n]) => [frames.join(';'), n] as const);
          if (sortThem) list.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
          const want = new Map<string, number>();
          for (const [stack, n] of list) want.set(stack, (want.get(stack) ?? 0) + n);
          const path = writeTemp(list.map(([stack, n]) => `${stack} ${n}`).join('\n') + '\n', '.folded');
          const { tree } = await loadTree(path, {});
          const got = new Map<string, number>();
          for (const chunk of foldedLines(tree)) {
            for (const l of chunk.split('\n'))
              if (l !== '') got.set(l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1)));
          }
          assert.deepEqual(new Map([...got].sort()), new Map([...want].filter(([, v]) => v > 0).sort()));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('drawing only the visible frames gives the same SVG as the whole tree', async () => {
    // Many narrow siblings between wide ones: their widths must still shift what follows.
    const lines: string[] = [];
    for (let i = 0; i < 400; i++)
      lines.push(`main;f${String(i).padStart(3, '0')};g ${i % 50 === 0 ? 100_000 : 1}`);
    lines.push('main;zz;deep;er 500000');
    const path = writeTemp(lines.join('\n') + '\n', '.folded');
    const render = async (drawOnly: boolean): Promise<string> => {
      const { tree } = await loadTree(path, {}, drawOnly);
      const parts: string[] = [];
      renderSvg(tree, { minWidth: 1 }, (c) => parts.push(c));
      return parts.join('');
    };
    const full = await render(false);
    assert.equal(await render(true), full);
    assert.match(full, /<title>zz\n/);
  });

  it('skips and counts bad lines', async () => {
    const path = writeTemp('a;b 3\nbroken line\na 1\n', '.folded');
    const t = await loadTree(path, {});
    assert.equal(computeTotals(t.tree.root), 4);
    assert.equal(t.diagnostics.get('bad_folded_line')?.count, 1);
  });
});

describe('flame graph SVG', () => {
  function tree(): FrameTree {
    const t = new FrameTree();
    t.addStack(['main', 'fib (fib.py:3)', 'fib (fib.py:3)'], 30);
    t.addStack(['main', 'fib (fib.py:3)'], 20);
    t.addStack(['main', 'print'], 45);
    t.addStack(['main', 'tiny'], 5);
    t.addStack(['main'], 0);
    return t;
  }

  function render(t: FrameTree, o: Parameters<typeof renderSvg>[1] = {}): string {
    const parts: string[] = [];
    renderSvg(t, o, (c) => parts.push(c));
    return parts.join('');
  }

  it('draws one frame per visible node with name, file:line, time and percent in its tooltip', () => {
    const svg = render(tree(), { title: 'T <&>' });
    assert.equal((svg.match(/<g class="f"/g) ?? []).length, 5);
    assert.match(svg, /<title>fib \(fib\.py:3\)\nfib\.py:3\n50 ns \(50\.00%\), self 20 ns<\/title>/);
    assert.match(svg, /id="title"[^>]*>T &lt;&amp;&gt;</);
    assert.match(svg, /<svg [^>]*width="1200"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
  });

  it('omits frames narrower than --minwidth and honours --width', () => {
    const svg = render(tree(), { width: 300, minWidth: '10%' });
    assert.doesNotMatch(svg, />tiny</);
    assert.doesNotMatch(svg, /<title>tiny/);
    assert.match(svg, /<svg [^>]*width="300"/);
  });

  it('colours are a deterministic hash of the name, by palette', () => {
    assert.equal(frameColor('hot', 'main'), frameColor('hot', 'main'));
    assert.notEqual(frameColor('hot', 'main'), frameColor('hot', 'other'));
    assert.equal(
      frameColor('hot', 'fib (a.py:1)'),
      frameColor('hot', 'fib (b.py:9)'),
      'same function, same colour',
    );
    assert.match(frameColor('blue', 'x'), /^rgb\(\d+,\d+,2\d\d\)$/);
    assert.equal(render(tree()), render(tree()));
  });

  it('inverted puts roots at the top; reverse turns stacks around', () => {
    const normal = render(tree());
    const icicle = render(tree(), { inverted: true });
    const y = (svg: string): number =>
      Number(/<g class="f"[^>]*data-d="0"><title>[^<]*<\/title><rect x="[^"]*" y="([^"]*)"/.exec(svg)![1]);
    assert.ok(y(icicle) < y(normal));
    const rev = reverseTree(tree());
    computeTotals(rev.root);
    assert.deepEqual([...rev.root.children!.values()].map((n) => rev.names[n.name]).sort(), [
      'fib (fib.py:3)',
      'print',
      'tiny',
    ]);
  });

  it('a differential graph colours growth red and shrinkage blue', async () => {
    const before = writeTemp(`[${ev('main', 0, 100)},${ev('slow', 10, 20)},${ev('fast', 40, 50)}]`);
    const after = writeTemp(`[${ev('main', 0, 100)},${ev('slow', 10, 60)},${ev('fast', 80, 10)}]`);
    const out = writeTemp('', '.svg');
    await flamegraph(before, { diffAfter: after, output: out, progress: false });
    const svg = readFileSync(out, 'utf8');
    const fill = (name: string): string =>
      new RegExp(`<title>${name}\\n[^<]*</title><rect [^>]*fill="([^"]*)"`).exec(svg)![1]!;
    assert.match(fill('slow'), /^rgb\(255,\d+,\d+\)$/);
    assert.match(fill('fast'), /^rgb\(\d+,\d+,255\)$/);
    const foldedOut = writeTemp('', '.folded');
    await flamegraph(before, { diffAfter: after, output: foldedOut, progress: false });
    assert.match(readFileSync(foldedOut, 'utf8'), /^main;slow 20 60$/m);
  });

  it('writes HTML and refuses an unknown extension', async () => {
    const path = writeTemp(`[${ev('main', 0, 100)}]`);
    const out = writeTemp('', '.html');
    await flamegraph(path, { output: out, progress: false });
    const html = readFileSync(out, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.doesNotMatch(html, /<\?xml/);
    await assert.rejects(
      flamegraph(path, { output: writeTemp('', '.png'), progress: false }),
      /unknown output extension/,
    );
  });
});
