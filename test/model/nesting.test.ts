import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { readChrome } from '../../src/formats/chrome/reader.js';
import { makeEvent, type TraceEvent } from '../../src/model/event.js';
import { FIXTURES, readPath } from '../support/fixtures.js';
import { nest, render } from '../support/nest.js';

async function nestFixture(name: string) {
  const { events } = await readPath(join(FIXTURES, 'external/speedscope', name), readChrome);
  return nest(events);
}

function codes(d: { list(): { code: string; count: number }[] }): Record<string, number> {
  return Object.fromEntries(d.list().map((x) => [x.code, x.count]));
}

// The documented nesting of speedscope's edge-case fixtures (README, "How slices nest").
describe('slice nesting (the shared rules)', () => {
  const cases: [string, string[], Record<string, number>][] = [
    [
      'simple.json',
      ['alpha 0-14', '  beta 1-13', '    gamma 2-7', '    epsilon 7-7'],
      { complete_without_dur: 1 },
    ],
    ['zero-duration-events.json', ['A 0-10', '  B 1-1', '  C 2-2', '  D 3-3'], {}],
    ['end-non-top-of-stack.json', ['A 0-10', '  B 1-10 (forced)', 'Z 10-11'], { end_closes_children: 1 }],
    ['mismatched-name.json', ['alpha 0-10 (unclosed)'], { unmatched_end: 1, unclosed_slice: 1 }],
    ['invalid-x-nesting.json', ['alpha 0-10', '  beta 5-10'], { child_clipped: 1 }],
    [
      'x-events-matching-start.json',
      [
        'alpha 0-20',
        '  beta 1-3',
        '    gamma 1-2',
        '  gamma 5-7',
        '    beta 5-6',
        '  gamma 9-11',
        '    beta 9-10',
        '  beta 13-15',
        '    gamma 13-14',
      ],
      {},
    ],
    [
      'must-retain-original-order.json',
      ['A 0-3', '  B 0-2', '    C 0-1', 'A 4-7', '  B 5-7', '    C 6-7', 'X 7-10'],
      {},
    ],
    ['too-many-end-events.json', ['alpha 0-14', '  beta 1-13'], { unmatched_end: 2 }],
    ['event-reordering-name-match.json', ['alpha 0-10', '  beta 1-2', '    gamma 1-2'], {}],
    // Times are relative to the first event in the file (B at 1 us), so A starts at -1.
    ['out-of-order.json', ['A -1-9', '  B 0-8', '    C 1-7'], {}],
    [
      'out-of-order-unbalanced-name.json',
      ['alpha -9-0', '  beta -8-0 (forced)'],
      { end_closes_children: 1, unmatched_end: 1 },
    ],
    [
      'unbalanced-name.json',
      ['alpha 0-9', '  beta 1-9 (forced)'],
      { end_closes_children: 1, unmatched_end: 1 },
    ],
    ['mismatched-args.json', ['A 0-10'], {}],
    [
      'not-enough-end-events.json',
      ['A 0-11 (unclosed)', '  A 1-11 (unclosed)', '    A 10-11'],
      { unclosed_slice: 2 },
    ],
    ['end-event-with-empty-stack.json', ['alpha 0-1'], { unmatched_end: 1 }],
    [
      'only-begin-events.json',
      ['A 0-2 (unclosed)', '  B 1-2 (unclosed)', '    C 2-2 (unclosed)'],
      { unclosed_slice: 3 },
    ],
  ];
  for (const [file, tree, diags] of cases) {
    it(`${file}`, async () => {
      const { slices, diagnostics } = await nestFixture(file);
      assert.deepEqual(render(slices), tree);
      assert.deepEqual(codes(diagnostics), diags);
    });
  }

  it('VizTracer end-ordered X events (children first) nest under their parents', async () => {
    const { events } = await readPath(join(FIXTURES, 'viztracer-generated/fib15.json'), readChrome);
    const { slices, diagnostics } = await nest(events);
    assertWellNested(slices);
    assert.equal(slices.filter((s) => s.name.startsWith('fib')).length, 1973);
    assert.equal(slices[0]!.depth, 0);
    assert.equal(diagnostics.count('error'), 0);
  });

  it('the spill and heap orderings give the same tree as the in-memory sort', async () => {
    const { events } = await readPath(join(FIXTURES, 'viztracer-generated/fib15.json'), readChrome);
    const inMemory = await nest(events);
    const spilled = await nest(events, { window: 64 }); // end-ordered: spills to disk
    assert.deepEqual(spilled.slices, inMemory.slices);
    // Nearly sorted input takes the heap path: shuffle locally.
    const local = [...events].sort((a, b) => a.ts - b.ts);
    for (let i = 0; i + 1 < local.length; i += 7) [local[i], local[i + 1]] = [local[i + 1]!, local[i]!];
    const heap = await nest(local, { window: 256 });
    const sorted = await nest(local);
    assert.deepEqual(heap.slices, sorted.slices);
  });

  it('random well-formed call trees nest back to themselves (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(callTree(3), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        async (roots, asX) => {
          const { events, expected } = layout(roots, asX);
          const shuffled = asX ? [...events].reverse() : events;
          const { slices, diagnostics } = await nest(shuffled);
          assert.deepEqual(
            slices.map((s) => [s.name, s.depth, s.start, s.end]),
            expected,
          );
          assert.equal(diagnostics.count('error'), 0);
        },
      ),
      { numRuns: 200, seed: 42 },
    );
  });
});

function assertWellNested(slices: { depth: number; start: number; end: number; name: string }[]): void {
  const stack: { start: number; end: number }[] = [];
  for (const s of slices) {
    stack.length = s.depth;
    const parent = stack[s.depth - 1];
    if (parent) {
      assert.ok(
        s.start >= parent.start && s.end <= parent.end,
        `${s.name} ${s.start}-${s.end} outside ${parent.start}-${parent.end}`,
      );
    }
    assert.ok(s.end >= s.start);
    stack.push(s);
  }
}

interface Tree {
  name: string;
  gap: number;
  len: number;
  children: Tree[];
}
function callTree(depth: number): fc.Arbitrary<Tree> {
  const leaf = fc.record({
    name: fc.constantFrom('a', 'b', 'c'),
    gap: fc.integer({ min: 1, max: 5 }),
    len: fc.integer({ min: 1, max: 5 }),
    children: fc.constant([] as Tree[]),
  });
  if (depth === 0) return leaf;
  return fc.record({
    name: fc.constantFrom('a', 'b', 'c', 'd'),
    gap: fc.integer({ min: 1, max: 5 }),
    len: fc.integer({ min: 1, max: 5 }),
    children: fc.array(callTree(depth - 1), { maxLength: 3 }),
  });
}

/** Lays trees out in time; returns B/E (or X) events and the expected [name, depth, start, end] in enter order. */
function layout(
  roots: Tree[],
  asX: boolean,
): { events: TraceEvent[]; expected: [string, number, number, number][] } {
  const events: TraceEvent[] = [];
  const expected: [string, number, number, number][] = [];
  let t = 0;
  const walk = (n: Tree, depth: number): void => {
    t += n.gap * 1000;
    const start = t;
    const row: [string, number, number, number] = [n.name, depth, start, 0];
    expected.push(row);
    if (!asX) events.push(makeEvent({ ph: 'B', name: n.name, ts: start, pid: 1, tid: 1 }));
    for (const c of n.children) walk(c, depth + 1);
    t += n.len * 1000;
    row[3] = t;
    // X events are written when they end, after their children (VizTracer's order).
    if (asX) events.push(makeEvent({ ph: 'X', name: n.name, ts: start, dur: t - start, pid: 1, tid: 1 }));
    else events.push(makeEvent({ ph: 'E', ts: t, pid: 1, tid: 1 }));
  };
  for (const r of roots) walk(r, 0);
  return { events, expected };
}
