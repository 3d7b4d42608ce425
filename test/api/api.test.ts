/**
 * The tracing API against a runtime that records what it is asked (the real one is exercised end
 * to end by extras.test.ts): names, args, phases and the sparse-mode wrapper and decorator.
 */
import assert from 'node:assert/strict';
import * as api from '../../src/api/index.js';
import type { RuntimeApi } from '../../src/record/runtime/events.js';

type Call = [string, ...unknown[]];

function fakeRuntime(sparse: boolean): { calls: Call[]; restore: () => void } {
  const calls: Call[] = [];
  let frames = 0;
  let objects = 0;
  const rt: RuntimeApi = {
    instant: (...a) => void calls.push(['instant', ...a]),
    counter: (name, values) => void calls.push(['counter', name, { ...values }]),
    object: (name, phase, id, state) =>
      void calls.push([
        'object',
        name,
        phase,
        id,
        state === undefined ? undefined : { ...(state as object) },
      ]),
    enter: (name, args) => {
      calls.push(['enter', name, args]);
      return ++frames;
    },
    leave: (id) => void calls.push(['leave', id]),
    asyncBegin: (name) => {
      calls.push(['asyncBegin', name]);
      return [++frames, 7];
    },
    asyncEnd: (id, span) => void calls.push(['asyncEnd', id, span]),
    sparse,
    setPaused: (p) => void calls.push(['setPaused', p]),
    paused: false,
    dump: (path) => {
      calls.push(['dump', path]);
      return 123;
    },
    nextObjectId: () => ++objects,
  };
  const g = globalThis as { __viz_rt?: unknown };
  const before = g.__viz_rt;
  g.__viz_rt = { api: rt };
  return { calls, restore: () => void (g.__viz_rt = before) };
}

describe('the tracing API', function () {
  it('instants, counters, Counter objects', function () {
    const { calls, restore } = fakeRuntime(false);
    try {
      assert.equal(api.isTracing(), true);
      api.instant('mark', { a: 1 }, { scope: 'global' });
      api.instant('plain');
      api.counter('c', { x: 1, y: 2 });
      const c = new api.Counter('queue', { pending: 1 }) as api.Counter & { pending: number; label?: string };
      c.pending = 5;
      c.label = 'not a number'; // not a sample
      assert.deepEqual(calls, [
        ['instant', 'mark', { a: 1 }, 'global'],
        ['instant', 'plain', undefined, 'thread'],
        ['counter', 'c', { x: 1, y: 2 }],
        ['counter', 'queue', { pending: 1 }],
        ['counter', 'queue', { pending: 5 }],
      ]);
      assert.equal(c.label, 'not a number');
    } finally {
      restore();
    }
  });

  it('TracedObject: new, a snapshot per assignment, delete', function () {
    const { calls, restore } = fakeRuntime(false);
    try {
      const o = new api.TracedObject('cache', { size: 0 }) as api.TracedObject & { size: number };
      o.size = 2;
      o.destroy();
      api.snapshot('cfg', 9, { m: 1 });
      assert.deepEqual(calls, [
        ['object', 'cache', 'new', 1, undefined],
        ['object', 'cache', 'snapshot', 1, { size: 0 }],
        ['object', 'cache', 'snapshot', 1, { size: 2 }],
        ['object', 'cache', 'delete', 1, undefined],
        ['object', 'cfg', 'snapshot', 9, { m: 1 }],
      ]);
    } finally {
      restore();
    }
  });

  it('span: a slice around a block, plus an async span for an async function; errors pass through', async function () {
    const { calls, restore } = fakeRuntime(false);
    try {
      assert.equal(
        api.span('sync', () => 1, { k: 'v' }),
        1,
      );
      assert.throws(
        () =>
          api.span('bad', () => {
            throw new Error('boom');
          }),
        /boom/,
      );
      assert.equal(await api.span('later', async () => 2), 2);
      assert.deepEqual(calls, [
        ['enter', 'sync', { k: 'v' }],
        ['leave', 1],
        ['enter', 'bad', undefined],
        ['leave', 2],
        ['asyncBegin', 'later'],
        ['enter', 'later', undefined],
        ['leave', 4],
        ['asyncEnd', 3, 7],
      ]);
    } finally {
      restore();
    }
  });

  it('traced(): wraps only in sparse mode, as a wrapper and as a method decorator', function () {
    const plain = fakeRuntime(false);
    const f = function work(x: number) {
      return x * 2;
    };
    try {
      assert.equal(api.traced(f), f);
    } finally {
      plain.restore();
    }
    const { calls, restore } = fakeRuntime(true);
    try {
      const w = api.traced(f);
      assert.notEqual(w, f);
      assert.equal(w.name, 'work');
      assert.equal(w(21), 42);
      const named = api.traced(f, 'custom');
      named(1);
      // the TC39 / TypeScript 5 decorator call: (method, context)
      const method = api.traced(
        function area(this: { s: number }) {
          return this.s * this.s;
        },
        { kind: 'method', name: 'area' },
      );
      assert.equal(method.call({ s: 3 }), 9);
      assert.deepEqual(calls, [
        ['enter', 'work', undefined],
        ['leave', 1],
        ['enter', 'custom', undefined],
        ['leave', 2],
        ['enter', 'area', undefined],
        ['leave', 3],
      ]);
    } finally {
      restore();
    }
  });

  it('start/stop/dump reach the runtime', function () {
    const { calls, restore } = fakeRuntime(false);
    try {
      api.stop();
      api.start();
      assert.equal(api.dump('/tmp/x.vizdump'), 123);
      assert.deepEqual(calls, [
        ['setPaused', true],
        ['setPaused', false],
        ['dump', '/tmp/x.vizdump'],
      ]);
    } finally {
      restore();
    }
  });

  it('pinoDestination: an instant log.<level> per record, the line passed on unchanged', function () {
    const { calls, restore } = fakeRuntime(false);
    try {
      const lines: string[] = [];
      const dest = api.pinoDestination({ write: (l: string) => lines.push(l) });
      dest.write('{"level":50,"msg":"bad","user":"x"}\n');
      dest.write('not json\n');
      assert.deepEqual(lines, ['{"level":50,"msg":"bad","user":"x"}\n', 'not json\n']);
      assert.deepEqual(calls, [['instant', 'log.error', { level: 50, msg: 'bad', user: 'x' }, 'thread']]);
    } finally {
      restore();
    }
  });
});
