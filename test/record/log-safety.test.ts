/**
 * `viz record --log-args --log-return --log-exceptions` on hostile values: Proxies whose traps
 * throw or count, throwing and counting getters, 10 MB strings, 10,000-level nesting, cycles,
 * BigInts, large typed arrays and Buffers, Maps and Sets, objects whose toString/toJSON/
 * Symbol.toPrimitive/util.inspect.custom throw or count, patched built-ins. The program prints
 * every hook it saw run, so traced and untraced stdout must be the same; the trace must hold a
 * bounded rendering (render.ts DEFAULT_LIMITS) of every argument and return value. Run with the
 * native recorder and with the JavaScript one (`VIZ_NO_NATIVE=1`).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DEFAULT_LIMITS } from '../../src/record/runtime/render.js';
import { requireBuild, ROOT, runPlain, runViz, SAMPLES, tempDir, type Run } from './record-helpers.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'record', 'log-safety', 'hostile.cjs');

/** A string rendering: at most `string` units kept, then the "…(+N chars)" marker. */
const CUT = /…\(\+(\d+) chars\)$/;
/** JSON text of func_args may pass the total budget by the entry being written when it ran out. */
const TOTAL_SLACK = 256;

interface ChromeEvent {
  ph: string;
  name: string;
  args?: Record<string, unknown>;
}

/** What the renderer makes of a string: cut to the limit with the marker (no surrogates here). */
function cut(s: string): string {
  const n = DEFAULT_LIMITS.string;
  return s.length <= n ? s : `${s.slice(0, n)}…(+${s.length - n} chars)`;
}

function elements(name: string, length: number, shown: (number | string)[]): string {
  return `${name}(${length}) [${shown.join(', ')}${length > shown.length ? ', …' : ''}]`;
}

const zeros = (n: number): number[] => new Array<number>(n).fill(0);

/** Hostile function -> the rendering of its one argument `value` (also its return value). */
const EXPECTED: Record<string, unknown> = {
  takeThrowingProxy: '[Proxy]',
  takeThrowingFunctionProxy: '[Proxy]',
  takeCountingProxy: '[Proxy]',
  takeCountingArrayProxy: '[Proxy]',
  // A Proxy prototype: no constructor name is looked up through it.
  takeProxyPrototype: { own: 1 },
  takeThrowingGetter: { before: 1, boom: '[Getter]', after: 2 },
  takeCountingGetter: { counted: '[Getter/Setter]' },
  takeGetterArray: ['[Getter]', 2],
  takeTenMBString: cut('x'.repeat(10 * 1024 * 1024)),
  takeEscapes: cut('\u0001"\\\n'.repeat(100000)),
  takeDeepObject: { next: { next: { next: { next: '[Object]' } } } },
  takeDeepArray: [[[['[Array(1)]']]]],
  takeCircularObject: { name: 'c', self: '[Circular]', nested: { back: '[Circular]' } },
  takeCircularArray: [1, '[Circular]'],
  takeBigInt: '123n',
  takeHugeBigInt: cut(`${2n ** 4000n}n`),
  takeBigTypedArray: elements('Float64Array', 1000000, zeros(20)),
  takeTypedArrays: [
    'Uint8Array(3) [1, 2, 3]',
    elements('Int32Array', 50, zeros(20)),
    'BigInt64Array(2) [1n, -2n]',
  ],
  takeBuffer: elements('Buffer', 13, [...Buffer.from('hello, buffer')]),
  takeBigBuffer: elements('Buffer', 5 * 1024 * 1024, new Array<number>(20).fill(7)),
  takeMap: {
    '@type': 'Map',
    size: 2,
    entries: [
      ['k', { v: 1 }],
      [{ key: 'object' }, [1, 2, 3]],
    ],
  },
  takeBigMap: {
    '@type': 'Map',
    size: 1000,
    entries: [...Array.from({ length: 20 }, (_, i) => [i, `v${i}`]), '…+980 more'],
  },
  takeSet: { '@type': 'Set', size: 3, values: [1, 'two', { three: 3 }] },
  takeBigSet: {
    '@type': 'Set',
    size: 1000,
    values: [...Array.from({ length: 20 }, (_, i) => i), '…+980 more'],
  },
  takeThrowingInstance: { '@type': 'Hostile', mode: 'throwing', data: [1, 2, 3] },
  takeCountingInstance: { '@type': 'Hostile', mode: 'counting', data: [1, 2, 3] },
  // Symbol-keyed hooks are not listed; the accessor is not called.
  takeOwnHooks: { toString: '[Function toString]', toJSON: '[Function toJSON]', accessor: '[Getter]' },
  // message and name are getters: neither is called (nor is `stack` read).
  takeHostileError: { '@type': 'Error', message: '[Getter]' },
};

/** Functions without parameters that create and return a hostile value. */
const RETURNED: Record<string, unknown> = {
  makeTenMBString: cut('y'.repeat(10 * 1024 * 1024)),
  makeDeepObject: { next: { next: { next: { next: '[Object]' } } } },
  makeThrowingProxy: '[Proxy]',
  makeBigTypedArray: elements('Uint32Array', 1000000, zeros(20)),
  makeHostile: { '@type': 'Hostile', mode: 'counting', data: [1, 2, 3] },
};

/** Checked for the limits only (several hostile values at once, and the total budget). */
const BOUNDED_ONLY = ['takeArrayBuffer', 'takeWide', 'takeMany', 'takeEverything'];

/** Every string (keys included) within the string limit, every array and object within the item
 * limit, nesting within the depth limit (`levels` containers below `value`, a Map or Set using
 * three JSON containers per level: itself, its entry list and an entry). */
function assertBounded(where: string, value: unknown, levels: number): void {
  const { string, items } = DEFAULT_LIMITS;
  const checkString = (s: string) => {
    const m = CUT.exec(s);
    assert.ok(
      m === null ? s.length <= string : s.length - m[0].length <= string,
      `${where}: string of ${s.length} chars: ${s.slice(0, 60)}…`,
    );
  };
  const walk = (v: unknown, depth: number): void => {
    if (typeof v === 'string') return checkString(v);
    if (typeof v !== 'object' || v === null) return;
    assert.ok(depth < levels, `${where}: nested deeper than ${levels}`);
    if (Array.isArray(v)) {
      assert.ok(v.length <= items + 1, `${where}: array of ${v.length}`);
      if (v.length === items + 1) assert.match(String(v[items]), /^…/, `${where}: 21st item not a marker`);
      for (const x of v) walk(x, depth + 1);
      return;
    }
    const keys = Object.keys(v);
    // "@type", then at most `items` properties, then the "…" entry.
    assert.ok(keys.length <= items + 2, `${where}: object of ${keys.length} keys`);
    for (const k of keys) {
      checkString(k);
      walk((v as Record<string, unknown>)[k], depth + 1);
    }
  };
  walk(value, 0);
}

function assertTotal(where: string, value: unknown): void {
  const text = JSON.stringify(value);
  assert.ok(
    text.length <= DEFAULT_LIMITS.total + TOTAL_SLACK,
    `${where}: ${text.length} chars of JSON (limit ${DEFAULT_LIMITS.total})`,
  );
}

/** The B and E events of the first call of `fn` (matched by nesting, not by order alone). */
function call(events: ChromeEvent[], fn: string): { b: ChromeEvent; e: ChromeEvent } {
  const prefix = `${fn} (`;
  const i = events.findIndex((ev) => ev.ph === 'B' && ev.name.startsWith(prefix));
  assert.ok(i >= 0, `no B event of ${fn}`);
  let open = 0;
  for (let j = i + 1; j < events.length; j++) {
    const ev = events[j] as ChromeEvent;
    if (ev.name !== (events[i] as ChromeEvent).name) continue;
    if (ev.ph === 'B') open++;
    else if (ev.ph === 'E' && open-- === 0) return { b: events[i] as ChromeEvent, e: ev };
  }
  assert.fail(`no E event of ${fn}`);
}

for (const [label, env] of [
  ['native recorder', {}],
  ['JavaScript recorder (VIZ_NO_NATIVE=1)', { VIZ_NO_NATIVE: '1' }],
] as const) {
  describe(`viz record --log-args --log-return --log-exceptions: hostile values, ${label}`, function () {
    this.timeout(120_000);
    let dir: string;
    let plain: Run;
    let traced: Run;
    let events: ChromeEvent[];

    before(() => {
      requireBuild();
      dir = tempDir();
      const out = join(dir, 'out.json');
      plain = runPlain(relative(SAMPLES, FIXTURE));
      traced = runViz(['--log-args', '--log-return', '--log-exceptions', '-o', out, FIXTURE], { env });
      const trace = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: ChromeEvent[] };
      events = trace.traceEvents.filter((ev) => ev.ph !== 'M');
    });

    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('the program prints the same and exits the same; none of its hooks ran', () => {
      assert.equal(plain.status, 0, plain.stderr);
      assert.equal(traced.status, plain.status, traced.stderr);
      assert.equal(traced.signal, plain.signal);
      assert.equal(traced.stdout, plain.stdout);
      assert.match(plain.stdout, /^hooks run: none$/m);
      assert.doesNotMatch(plain.stdout, /DIFFERENT/);
      const javascript = /using the JavaScript recorder/.test(traced.stderr);
      assert.equal(javascript, 'VIZ_NO_NATIVE' in env, traced.stderr);
    });

    it('each argument and return value is rendered as render.ts renders it', () => {
      for (const [fn, want] of Object.entries(EXPECTED)) {
        const { b, e } = call(events, fn);
        assert.deepEqual(b.args, { func_args: { value: want } }, `${fn} B`);
        assert.deepEqual(e.args, { return_value: want }, `${fn} E`);
      }
      for (const [fn, want] of Object.entries(RETURNED)) {
        const { e } = call(events, fn);
        assert.deepEqual(e.args, { return_value: want }, `${fn} E`);
      }
      const { b } = call(events, 'takeArrayBuffer');
      assert.deepEqual(b.args, {
        func_args: {
          value: elements('ArrayBuffer', 1024 * 1024, zeros(20)),
          view: elements('DataView', 64, zeros(20)),
        },
      });
    });

    it('every logged value respects the depth, string, item and total limits', () => {
      const levels = DEFAULT_LIMITS.depth + 1;
      for (const fn of [...Object.keys(EXPECTED), ...Object.keys(RETURNED), ...BOUNDED_ONLY]) {
        const { b, e } = call(events, fn);
        if (!(fn in RETURNED)) {
          const args = b.args?.func_args as Record<string, unknown> | undefined;
          assert.ok(args !== undefined && typeof args === 'object', `${fn}: no func_args`);
          assertTotal(`${fn} func_args`, args);
          for (const [name, v] of Object.entries(args)) assertBounded(`${fn}(${name})`, v, levels * 3);
        }
        assert.ok(e.args !== undefined && 'return_value' in e.args, `${fn}: no return_value`);
        assertTotal(`${fn} return_value`, e.args.return_value);
        assertBounded(`${fn} return_value`, e.args.return_value, levels * 3);
      }
    });

    it('the total budget cuts a value far larger than it', () => {
      const { b, e } = call(events, 'takeWide');
      for (const text of [JSON.stringify(b.args), JSON.stringify(e.args)]) {
        assert.ok(text.length > DEFAULT_LIMITS.total / 2, text);
        assert.match(text, /"…"/, 'no budget marker');
      }
      const many = call(events, 'takeMany').b.args?.func_args as { values: unknown[] };
      assert.deepEqual(many.values.slice(0, 2), ['[Proxy]', '[Proxy]']);
      assert.deepEqual(many.values[4], [1, '[Circular]']);
      assert.equal(many.values[5], '123n');
    });

    it('thrown hostile values are logged as exceptions without running their hooks', () => {
      const thrown = events.filter((ev) => ev.ph === 'i' && ev.name === 'exception').map((ev) => ev.args);
      assert.deepEqual(thrown, [
        { how: 'thrown', error: '[Proxy]' },
        { how: 'thrown', error: '[Proxy]' },
        { how: 'thrown', error: EXPECTED.takeThrowingInstance },
        { how: 'thrown', error: EXPECTED.takeHostileError },
      ]);
    });
  });
}
