/**
 * Bounded, safe rendering of argument and return values: every mapping, no program code ever run
 * (getters, Proxy traps, toString/toJSON/Symbol.toPrimitive, overridden built-in methods,
 * Error.prepareStackTrace), and the depth / string / items / total limits.
 */
import assert from 'node:assert/strict';
import {
  DEFAULT_LIMITS,
  renderNamed,
  renderValue,
  type RenderLimits,
} from '../../src/record/runtime/render.js';

/** Renders `value` and parses the result (which must be valid JSON). */
function r(value: unknown, limits?: RenderLimits): unknown {
  const text = renderValue(value, limits);
  return JSON.parse(text) as unknown;
}

/** A Proxy whose every trap throws and counts its calls. */
function hostileProxy(target: object): { proxy: object; calls: () => number } {
  let calls = 0;
  const handler = new Proxy(
    {},
    {
      get(_t, trap) {
        return () => {
          calls++;
          throw new Error(`trap ${String(trap)}`);
        };
      },
    },
  );
  return { proxy: new Proxy(target, handler as ProxyHandler<object>), calls: () => calls };
}

describe('renderValue: primitives', () => {
  it('numbers, booleans, null, undefined', () => {
    assert.equal(renderValue(42), '42');
    assert.equal(renderValue(-1.5e-7), '-1.5e-7');
    assert.equal(renderValue(-0), '0');
    assert.deepEqual(r(NaN), 'NaN');
    assert.deepEqual(r(Infinity), 'Infinity');
    assert.deepEqual(r(-Infinity), '-Infinity');
    assert.equal(renderValue(true), 'true');
    assert.equal(renderValue(false), 'false');
    assert.equal(renderValue(null), 'null');
    assert.deepEqual(r(undefined), 'undefined');
  });

  it('BigInt as "123n", a huge one cut to the string limit', () => {
    assert.deepEqual(r(123n), '123n');
    assert.deepEqual(r(-5n), '-5n');
    const huge = 10n ** 1000n;
    const s = r(huge) as string;
    assert.match(s, /^10{199}…\(\+802 chars\)$/);
  });

  it('symbols as values', () => {
    assert.deepEqual(r(Symbol('desc')), 'Symbol(desc)');
    assert.deepEqual(r(Symbol()), 'Symbol()');
    assert.deepEqual(r(Symbol.iterator), 'Symbol(Symbol.iterator)');
  });

  it('strings: JSON-escaped, cut with a suffix, never splitting a surrogate pair', () => {
    assert.equal(renderValue('a"b\n\\'), '"a\\"b\\n\\\\"');
    assert.deepEqual(r('x'.repeat(200)), 'x'.repeat(200));
    assert.deepEqual(r('x'.repeat(201)), `${'x'.repeat(200)}…(+1 chars)`);
    const limits = { ...DEFAULT_LIMITS, string: 5 };
    // '😀' is two UTF-16 units at 4..5: keeping 5 units would split it.
    assert.deepEqual(r('abcd😀efg', limits), 'abcd…(+5 chars)');
    assert.deepEqual(r('abc😀efg', limits), 'abc😀…(+3 chars)');
  });

  it('a 10 MB string costs O(limit): the output is bounded', () => {
    const big = 'é'.repeat(10 * 1024 * 1024);
    const text = renderValue(big);
    assert.ok(text.length < 260, `length ${text.length}`);
    assert.equal(JSON.parse(text), `${'é'.repeat(200)}…(+${10 * 1024 * 1024 - 200} chars)`);
  });
});

describe('renderValue: functions', () => {
  it('names functions and classes, anonymous ones too', () => {
    function named(): void {}
    class Klass {}
    const anon = [() => 0][0];
    assert.deepEqual(r(named), '[Function named]');
    assert.deepEqual(r(Klass), '[class Klass]');
    assert.deepEqual(r(anon), '[Function (anonymous)]');
    assert.deepEqual(
      r(
        (() => {
          return class {};
        })(),
      ),
      '[class (anonymous)]',
    );
    assert.deepEqual(
      r(async function af() {}),
      '[Function af]',
    );
    assert.deepEqual(r(Map), '[Function Map]');
  });

  it('never calls a `name` getter', () => {
    let calls = 0;
    function f(): void {}
    Object.defineProperty(f, 'name', {
      get() {
        calls++;
        return 'evil';
      },
    });
    assert.deepEqual(r(f), '[Function (anonymous)]');
    assert.equal(calls, 0);
  });
});

describe('renderValue: never runs program code', () => {
  it('a Proxy whose every trap throws renders as "[Proxy]" and no trap runs', () => {
    const { proxy, calls } = hostileProxy({ a: 1 });
    assert.deepEqual(r(proxy), '[Proxy]');
    assert.deepEqual(r({ p: proxy, list: [proxy] }), { p: '[Proxy]', list: ['[Proxy]'] });
    const { proxy: fnProxy, calls: fnCalls } = hostileProxy(function g() {});
    assert.deepEqual(r(fnProxy), '[Proxy]');
    assert.equal(calls(), 0);
    assert.equal(fnCalls(), 0);
  });

  it('a Proxy on the prototype chain or as constructor is not touched', () => {
    const { proxy, calls } = hostileProxy({});
    const o = Object.create(proxy, { x: { value: 1, enumerable: true } }) as object;
    assert.deepEqual(r(o), { x: 1 });
    const { proxy: ctor, calls: ctorCalls } = hostileProxy(function C() {});
    const p = Object.create({ constructor: ctor }) as { y: number };
    p.y = 2;
    assert.deepEqual(r(p), { y: 2 });
    const e = new Error('m');
    Object.setPrototypeOf(e, proxy);
    assert.deepEqual(r(e), { '@type': 'Error', message: 'm' });
    assert.equal(calls(), 0);
    assert.equal(ctorCalls(), 0);
  });

  it('getters and setters are shown, never called', () => {
    let calls = 0;
    const o = {
      a: 1,
      get g(): number {
        calls++;
        throw new Error('getter');
      },
      set s(_v: number) {
        calls++;
      },
      get gs(): number {
        calls++;
        return 1;
      },
      set gs(_v: number) {
        calls++;
      },
    };
    assert.deepEqual(r(o), { a: 1, g: '[Getter]', s: '[Setter]', gs: '[Getter/Setter]' });
    const arr = [1, 2];
    Object.defineProperty(arr, 1, {
      get() {
        calls++;
        throw new Error('index getter');
      },
    });
    assert.deepEqual(r(arr), [1, '[Getter]']);
    assert.equal(calls, 0);
  });

  it('toString / toJSON / valueOf / Symbol.toPrimitive / inspect are never called', () => {
    let calls = 0;
    class Loud {
      x = 1;
      toString(): string {
        calls++;
        throw new Error('toString');
      }
      toJSON(): unknown {
        calls++;
        throw new Error('toJSON');
      }
      valueOf(): number {
        calls++;
        throw new Error('valueOf');
      }
      [Symbol.toPrimitive](): never {
        calls++;
        throw new Error('toPrimitive');
      }
      [Symbol.for('nodejs.util.inspect.custom')](): never {
        calls++;
        throw new Error('inspect');
      }
    }
    assert.deepEqual(r(new Loud()), { '@type': 'Loud', x: 1 });
    assert.deepEqual(r({ toJSON: () => calls++, y: 2 }), { toJSON: '[Function toJSON]', y: 2 });
    assert.equal(calls, 0);
  });

  it('Map / Set with throwing overridden entries, values, size and forEach on the instance', () => {
    let calls = 0;
    const boom = (): never => {
      calls++;
      throw new Error('overridden');
    };
    const m = new Map<unknown, unknown>([
      ['k', 1],
      [2, { v: true }],
    ]);
    const s = new Set([1, 'two']);
    for (const c of [m, s]) {
      for (const key of ['entries', 'values', 'keys', 'forEach', 'get', Symbol.iterator]) {
        Object.defineProperty(c, key, { value: boom });
      }
      Object.defineProperty(c, 'size', { get: boom });
    }
    assert.deepEqual(r(m), {
      '@type': 'Map',
      size: 2,
      entries: [
        ['k', 1],
        [2, { v: true }],
      ],
    });
    assert.deepEqual(r(s), { '@type': 'Set', size: 2, values: [1, 'two'] });
    assert.equal(calls, 0);
  });

  it('a subclass of Map or Uint8Array cannot intercept its size, length or elements', () => {
    let calls = 0;
    class M extends Map<number, number> {
      override get size(): number {
        calls++;
        return 99;
      }
      override entries(): never {
        calls++;
        throw new Error('entries');
      }
    }
    class U extends Uint8Array {
      override get length(): number {
        calls++;
        return 99;
      }
    }
    assert.deepEqual(r(new M([[1, 2]])), { '@type': 'Map', size: 1, entries: [[1, 2]] });
    assert.deepEqual(r(new U([7, 8])), 'Uint8Array(2) [7, 8]');
    assert.equal(calls, 0);
  });

  it('Date with an overridden toISOString (instance and prototype) is not called', () => {
    let calls = 0;
    const d = new Date(Date.UTC(2020, 1, 3, 4, 5, 6, 7));
    Object.defineProperty(d, 'toISOString', {
      value: () => {
        calls++;
        return 'fake';
      },
    });
    const original = Object.getOwnPropertyDescriptor(Date.prototype, 'toISOString')!;
    Date.prototype.toISOString = () => {
      calls++;
      return 'patched';
    };
    try {
      assert.deepEqual(r(d), '2020-02-03T04:05:06.007Z');
    } finally {
      Object.defineProperty(Date.prototype, 'toISOString', original);
    }
    assert.deepEqual(r(new Date(NaN)), 'Invalid Date');
    assert.equal(calls, 0);
  });

  it("an error's stack is never read (Error.prepareStackTrace does not run)", () => {
    let calls = 0;
    const saved = Error.prepareStackTrace;
    Error.prepareStackTrace = () => {
      calls++;
      return 'stack';
    };
    try {
      const e = new RangeError('out');
      assert.deepEqual(r(e), { '@type': 'RangeError', message: 'out' });
      const o = {};
      Error.captureStackTrace(o);
      assert.deepEqual(r(o), {});
    } finally {
      Error.prepareStackTrace = saved;
    }
    assert.equal(calls, 0);
  });

  it('patched built-ins (JSON.stringify, String.prototype.slice, Map.prototype.entries) are not used', () => {
    let calls = 0;
    const saved = {
      stringify: JSON.stringify,
      slice: String.prototype.slice,
      entries: Map.prototype.entries,
    };
    JSON.stringify = () => {
      calls++;
      return 'x';
    };
    String.prototype.slice = function () {
      calls++;
      return 'x';
    };
    Map.prototype.entries = function () {
      calls++;
      throw new Error('entries');
    };
    let text: string;
    try {
      text = renderValue({ s: 'y'.repeat(300), m: new Map([[1, 2]]) });
    } finally {
      JSON.stringify = saved.stringify;
      String.prototype.slice = saved.slice;
      Map.prototype.entries = saved.entries;
    }
    assert.equal(calls, 0);
    assert.deepEqual(JSON.parse(text), {
      s: `${'y'.repeat(200)}…(+100 chars)`,
      m: { '@type': 'Map', size: 1, entries: [[1, 2]] },
    });
  });
});

describe('renderValue: objects and arrays', () => {
  it('plain, null-prototype and class instances; symbol keys and non-enumerable keys skipped', () => {
    const sym = Symbol('key');
    const plain = { a: 1, b: 'two', [sym]: 3, s: Symbol('v') };
    Object.defineProperty(plain, 'hidden', { value: 1, enumerable: false });
    assert.deepEqual(r(plain), { a: 1, b: 'two', s: 'Symbol(v)' });
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = [1];
    assert.deepEqual(r(bare), { k: [1] });
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    assert.deepEqual(r(new Point(1, 2)), { '@type': 'Point', x: 1, y: 2 });
    // A constructor that is an accessor, or whose name is an accessor: no @type.
    const p1 = Object.create(
      Object.defineProperty({}, 'constructor', {
        get() {
          throw new Error('constructor getter');
        },
      }),
    ) as object;
    assert.deepEqual(r(p1), {});
    function Named(): void {}
    Object.defineProperty(Named, 'name', {
      get() {
        throw new Error('name getter');
      },
    });
    assert.deepEqual(r(Object.create({ constructor: Named }) as object), {});
  });

  it('sparse arrays show holes; long arrays end with "…+N more"', () => {
    assert.deepEqual(r([1, , 3]), [1, '<empty>', 3]);
    const sparse: unknown[] = [];
    sparse.length = 1e9;
    sparse[1] = 'x';
    const out = r(sparse) as unknown[];
    assert.equal(out.length, 21);
    assert.equal(out[1], 'x');
    assert.equal(out[20], `…+${1e9 - 20} more`);
    assert.deepEqual(
      r(
        Array.from({ length: 5 }, (_, i) => i),
        { ...DEFAULT_LIMITS, items: 3 },
      ),
      [0, 1, 2, '…+2 more'],
    );
  });

  it('objects with many keys end with a "…" key', () => {
    const o: Record<string, number> = {};
    for (let i = 0; i < 25; i++) o[`k${i}`] = i;
    const out = r(o) as Record<string, unknown>;
    assert.equal(Object.keys(out).length, 21);
    assert.equal(out.k19, 19);
    assert.equal(out.k20, undefined);
    assert.equal(out['…'], '+5 more');
  });

  it('circular objects and arrays render "[Circular]"; repeated siblings render in full', () => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    o.list = [o];
    assert.deepEqual(r(o), { a: 1, self: '[Circular]', list: ['[Circular]'] });
    const a: unknown[] = [1];
    a.push(a, [a]);
    assert.deepEqual(r(a), [1, '[Circular]', ['[Circular]']]);
    const shared = { s: 1 };
    assert.deepEqual(r([shared, shared]), [{ s: 1 }, { s: 1 }]);
    const m = new Map<unknown, unknown>();
    m.set('me', m);
    assert.deepEqual(r(m), { '@type': 'Map', size: 1, entries: [['me', '[Circular]']] });
  });

  it('beyond depth: "[Object]" / "[Array(n)]" / "[Map]" / "[Set]"', () => {
    const v = { a: { b: { c: { d: 1 }, l: [1, 2], m: new Map(), s: new Set() } } };
    assert.deepEqual(r(v, { ...DEFAULT_LIMITS, depth: 1 }), {
      a: { b: '[Object]' },
    });
    assert.deepEqual(r(v, { ...DEFAULT_LIMITS, depth: 2 }), {
      a: { b: { c: '[Object]', l: '[Array(2)]', m: '[Map]', s: '[Set]' } },
    });
    assert.deepEqual(r([[[[]]]], { ...DEFAULT_LIMITS, depth: 0 }), ['[Array(1)]']);
  });

  it('a 10,000-deep object and array: bounded output, no stack overflow', () => {
    const root: Record<string, unknown> = {};
    let o = root;
    for (let i = 0; i < 10_000; i++) o = o.n = {};
    assert.deepEqual(r(root), { n: { n: { n: { n: '[Object]' } } } });
    let arr: unknown[] = [];
    const top = arr;
    for (let i = 0; i < 10_000; i++) arr = arr[0] = [] as unknown[];
    assert.deepEqual(r(top), [[[['[Array(1)]']]]]);
    // Even with an absurd depth limit the recursion stays shallow.
    const text = renderValue(root, { ...DEFAULT_LIMITS, depth: 1e9, total: 1e9 });
    assert.ok(text.length < 1000, `length ${text.length}`);
    JSON.parse(text);
  });
});

describe('renderValue: built-in types', () => {
  it('typed arrays (1M elements), BigInt64Array, Buffer, ArrayBuffer, DataView', () => {
    const big = new Float64Array(1 << 20);
    big[0] = 1.5;
    big[1] = NaN;
    big[2] = -Infinity;
    assert.deepEqual(
      r(big, { ...DEFAULT_LIMITS, items: 4 }),
      'Float64Array(1048576) [1.5, NaN, -Infinity, 0, …]',
    );
    assert.deepEqual(r(new Uint8Array([1, 2, 3])), 'Uint8Array(3) [1, 2, 3]');
    assert.deepEqual(r(new BigInt64Array([1n, -2n])), 'BigInt64Array(2) [1n, -2n]');
    assert.deepEqual(r(Buffer.from('hi')), 'Buffer(2) [104, 105]');
    assert.deepEqual(r(new Uint8Array(0)), 'Uint8Array(0) []');
    assert.deepEqual(r(new ArrayBuffer(3)), 'ArrayBuffer(3) [0, 0, 0]');
    assert.deepEqual(r(new ArrayBuffer(0)), 'ArrayBuffer(0) []');
    const buf = new Uint8Array([9, 8, 7, 6]).buffer;
    assert.deepEqual(r(new DataView(buf, 1, 2)), 'DataView(2) [8, 7]');
    assert.deepEqual(r(new SharedArrayBuffer(2)), 'SharedArrayBuffer(2) [0, 0]');
    const long = r(new Uint8Array(1 << 20)) as string;
    assert.ok(long.startsWith('Uint8Array(1048576) [0, 0,'));
    assert.ok(long.endsWith(', …]'));
    assert.equal(long.split(',').length, 21);
  });

  it('Map and Set, bounded by items', () => {
    const m = new Map(Array.from({ length: 30 }, (_, i) => [i, `v${i}`] as const));
    const out = r(m, { ...DEFAULT_LIMITS, items: 2 });
    assert.deepEqual(out, {
      '@type': 'Map',
      size: 30,
      entries: [[0, 'v0'], [1, 'v1'], '…+28 more'],
    });
    assert.deepEqual(r(new Set([{ a: 1 }])), { '@type': 'Set', size: 1, values: [{ a: 1 }] });
  });

  it('WeakMap, WeakSet, Promise, generators, module namespaces, globalThis', async () => {
    assert.deepEqual(r(new WeakMap()), '[WeakMap]');
    assert.deepEqual(r(new WeakSet()), '[WeakSet]');
    assert.deepEqual(r(Promise.resolve(1)), '[Promise]');
    function* gen(): Generator<number> {
      yield 1;
    }
    assert.deepEqual(r(gen()), '[Generator]');
    const ns = await import('node:path');
    assert.deepEqual(r(ns), '[Module]');
    assert.deepEqual(r(globalThis), '[global]');
    assert.deepEqual(r({ g: globalThis }), { g: '[global]' });
  });

  it('RegExp via intrinsic getters, even with overridden flags / source / toString', () => {
    let calls = 0;
    const re = /a+"b/gimsuy;
    for (const key of ['flags', 'source', 'global', 'toString']) {
      Object.defineProperty(re, key, {
        get() {
          calls++;
          throw new Error(key);
        },
      });
    }
    assert.deepEqual(r(re), '/a+"b/gimsuy');
    assert.deepEqual(r(/x/d), '/x/d');
    assert.equal(calls, 0);
  });

  it('errors: type, message, cause and own enumerable data properties', () => {
    const e = Object.assign(new TypeError('bad', { cause: { why: 1 } }), { code: 'E_BAD' });
    assert.deepEqual(r(e), { '@type': 'TypeError', message: 'bad', cause: { why: 1 }, code: 'E_BAD' });
    class MyError extends Error {}
    assert.deepEqual(r(new MyError('x')), { '@type': 'Error', message: 'x' });
    class NamedError extends Error {}
    NamedError.prototype.name = 'NamedError';
    assert.deepEqual(r(new NamedError('y')), { '@type': 'NamedError', message: 'y' });
    let calls = 0;
    class GetterName extends Error {
      override get name(): string {
        calls++;
        return 'never';
      }
    }
    assert.deepEqual(r(new GetterName('z')), { '@type': 'GetterName', message: 'z' });
    const fake = Object.create(Error.prototype) as Error;
    Object.defineProperty(fake, 'message', {
      get() {
        calls++;
        return 'm';
      },
    });
    assert.deepEqual(r(fake), { '@type': 'Error', message: '[Getter]' });
    assert.equal(calls, 0);
  });

  it('boxed primitives', () => {
    assert.deepEqual(r(Object(1)), '[Number: 1]');
    assert.deepEqual(r(Object('str')), '[String: str]');
    assert.deepEqual(r(Object(false)), '[Boolean: false]');
    assert.deepEqual(r(Object(5n)), '[BigInt: 5n]');
    assert.deepEqual(r(Object(Symbol('s'))), '[Symbol: Symbol(s)]');
    let calls = 0;
    const n = Object(3) as { valueOf: () => number };
    n.valueOf = () => calls++;
    assert.deepEqual(r(n), '[Number: 3]');
    assert.equal(calls, 0);
  });
});

describe('renderValue: the total budget', () => {
  it('remaining values become "…" once the budget is spent, and the text stays valid JSON', () => {
    const limits = { ...DEFAULT_LIMITS, total: 100 };
    const arr = Array.from({ length: 20 }, (_, i) => `item number ${i}`);
    const text = renderValue(arr, limits);
    assert.ok(text.length <= 140, `length ${text.length}`);
    const out = JSON.parse(text) as unknown[];
    assert.equal(out.at(-1), '…');
    assert.equal(out[0], 'item number 0');
    const obj = Object.fromEntries(arr.map((v, i) => [`key${i}`, v]));
    const parsed = JSON.parse(renderValue(obj, limits)) as Record<string, unknown>;
    assert.equal(parsed['…'], '…');
  });

  it('a value that still throws becomes "[unrenderable]" and the rest is kept', () => {
    const ab = new ArrayBuffer(8);
    const view = new DataView(ab, 0, 8);
    structuredClone(ab, { transfer: [ab] }); // detaches ab: reading the view now throws
    assert.deepEqual(r({ a: 1, v: view, b: 2 }), { a: 1, v: '[unrenderable]', b: 2 });
  });
});

describe('renderValue: random values within the limits', () => {
  /** mulberry32: a small seeded PRNG, so failures reproduce. */
  function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function randomValue(rand: () => number, level: number): unknown {
    const k = rand();
    if (level > 5 || k < 0.35 + level * 0.12) {
      const p = rand();
      if (p < 0.3) return Math.floor(rand() * 1e6) - 5e5;
      if (p < 0.5) return 'ab"\\\n😀'.repeat(Math.floor(rand() * 40));
      if (p < 0.6) return rand() < 0.5 ? null : undefined;
      if (p < 0.7) return BigInt(Math.floor(rand() * 1e9)) ** 20n;
      return 'word'.repeat(Math.floor(rand() * 100));
    }
    const n = Math.floor(rand() * 12);
    if (k < 0.7) return Array.from({ length: n }, () => randomValue(rand, level + 1));
    const o: Record<string, unknown> = {};
    for (let i = 0; i < n; i++)
      o[`key${i}${'k'.repeat(Math.floor(rand() * 20))}`] = randomValue(rand, level + 1);
    return o;
  }

  /** Checks the parsed output against the limits; returns the nesting depth of containers. */
  function check(v: unknown, limits: RenderLimits, suffix: number): number {
    if (typeof v === 'string') {
      assert.ok(v.length <= limits.string + suffix, `string of ${v.length}`);
      return 0;
    }
    if (Array.isArray(v)) {
      assert.ok(v.length <= limits.items + 1, `array of ${v.length}`);
      return 1 + Math.max(0, ...v.map((x) => check(x, limits, suffix)));
    }
    if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v);
      assert.ok(keys.length <= limits.items + 1, `object of ${keys.length}`);
      for (const key of keys) assert.ok(key.length <= limits.string + suffix, `key of ${key.length}`);
      return 1 + Math.max(0, ...Object.values(v).map((x) => check(x, limits, suffix)));
    }
    return 0;
  }

  it('items, depth, string and total limits hold for 300 random values', () => {
    const rand = prng(20260101);
    for (let i = 0; i < 300; i++) {
      const limits: RenderLimits = {
        depth: Math.floor(rand() * 5),
        string: 1 + Math.floor(rand() * 60),
        items: Math.floor(rand() * 8),
        total: 50 + Math.floor(rand() * 2000),
      };
      const value = randomValue(rand, 0);
      const text = renderValue(value, limits);
      // "About" the budget: closing brackets and one last entry may go past it.
      assert.ok(
        text.length <= limits.total + 40 + 10 * limits.depth,
        `length ${text.length} for ${limits.total}`,
      );
      const parsed = JSON.parse(text) as unknown;
      const nesting = check(parsed, limits, '…(+1000000 chars)'.length);
      assert.ok(nesting <= limits.depth + 1, `nesting ${nesting} > depth ${limits.depth}`);
    }
  });
});

describe('renderNamed', () => {
  it('renders parallel names and values as one object', () => {
    assert.equal(renderNamed(['a', 'b'], [1, { x: 2 }]), '{"a":1,"b":{"x":2}}');
    assert.equal(renderNamed([], []), '{}');
  });

  it('unnamed extra values are keyed by index; items limit applies', () => {
    assert.deepEqual(JSON.parse(renderNamed(['a'], [1, 'two'])), { a: 1, '1': 'two' });
    assert.deepEqual(JSON.parse(renderNamed(['a', 'b', 'c'], [1, 2, 3], { ...DEFAULT_LIMITS, items: 2 })), {
      a: 1,
      b: 2,
      '…': '+1 more',
    });
  });

  it('accepts an arguments object; a throwing value does not hide the others', () => {
    function f(..._args: unknown[]): string {
      // eslint-disable-next-line prefer-rest-params
      return renderNamed(['p', 'q'], arguments);
    }
    const { proxy, calls } = hostileProxy({});
    assert.deepEqual(JSON.parse(f(proxy, 'x')), { p: '[Proxy]', q: 'x' });
    assert.equal(calls(), 0);
    const ab = new ArrayBuffer(4);
    const view = new Uint16Array(2);
    const dv = new DataView(ab);
    structuredClone(ab, { transfer: [ab] });
    assert.deepEqual(JSON.parse(f(dv, view)), { p: '[unrenderable]', q: 'Uint16Array(2) [0, 0]' });
  });
});
