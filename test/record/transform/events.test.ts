import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { instrument } from '../../../src/record/transform/index.js';
import { run, assertSameBehaviour, evalScript, recordingRuntime } from './helpers.js';

/** Runs, checks it behaves like the original, and returns the full log. */
async function events(src: string): Promise<{ log: string[]; value: unknown }> {
  const r = await run(src);
  assertSameBehaviour(r);
  return { log: r.log, value: r.value };
}

describe('record/transform: enter/exit sequences', () => {
  it('function declarations and expressions, with return values', async () => {
    const { log, value } = await events(`
      function f(a, b) { mark('f-body'); return g(a) + b }
      const g = function (x) { return x * 2 };
      return f(1, 2);
    `);
    assert.equal(value, 4);
    assert.deepEqual(log, ['>f', 'f-body', '>g', '<g', '<f']);
  });

  it('arrows with expression and block bodies', async () => {
    const { log, value } = await events(`
      const inc = x => x + 1;
      const obj = a => ({ a });
      const blk = (a) => { return inc(a) };
      return [inc(1), blk(2), obj(3)];
    `);
    assert.deepEqual(value, [2, 3, { a: 3 }]);
    assert.deepEqual(log, ['>inc', '<inc', '>blk', '>inc', '<inc', '<blk', '>obj', '<obj']);
  });

  it('class members: methods, private, static, accessors, static block, field arrow, derived constructor', async () => {
    const { log, value } = await events(`
      class Base { constructor(v) { mark('base'); this.v = v } }
      class C extends Base {
        #secret() { return 's' }
        static make() { return new C(1) }
        field = () => this.v;
        get val() { return this.v }
        set val(x) { this.v = x }
        static { mark('static') }
        constructor(v) { mark('before-super'); const t = new.target.name; super(v); mark('after-super:' + t) }
        reveal() { return this.#secret() }
      }
      const c = C.make(); c.val = 5;
      return [c.val, c.field(), c.reveal()];
    `);
    assert.deepEqual(value, [5, 5, 's']);
    assert.deepEqual(log, [
      '>C.<static>',
      'static',
      '<C.<static>',
      '>C.make',
      '>C.constructor',
      'before-super',
      '>Base.constructor',
      'base',
      '<Base.constructor',
      'after-super:C',
      '<C.constructor',
      '<C.make',
      '>C.set val',
      '<C.set val',
      '>C.get val',
      '<C.get val',
      '>C.field',
      '<C.field',
      '>C.reveal',
      '>C.#secret',
      '<C.#secret',
      '<C.reveal',
    ]);
  });

  it('object literal methods, accessors and properties', async () => {
    const { log, value } = await events(`
      const o = { n: 1, m() { return this.n }, get g() { return 2 }, set s(v) { this.n = v },
        f: function () { return 3 }, a: () => 4, inner: { deep() { return 5 } } };
      o.s = 7;
      return [o.m(), o.g, o.f(), o.a(), o.inner.deep()];
    `);
    assert.deepEqual(value, [7, 2, 3, 4, 5]);
    assert.deepEqual(log, [
      '>o.set s',
      '<o.set s',
      '>o.m',
      '<o.m',
      '>o.get g',
      '<o.get g',
      '>o.f',
      '<o.f',
      '>o.a',
      '<o.a',
      '>o.inner.deep',
      '<o.inner.deep',
    ]);
  });

  it('derived constructor that throws before super, or returns without calling it', async () => {
    const { log } = await events(`
      class Base {}
      class D extends Base { constructor(fail) { mark('pre'); if (fail) throw new Error('no'); super() } }
      class R extends Base { constructor() { mark('r'); return } }
      try { new D(true) } catch (e) { mark(e.message) }
      try { new R() } catch (e) { mark(e.constructor.name) }
      new D(false);
    `);
    assert.deepEqual(log, [
      '>D.constructor',
      'pre',
      '<D.constructor',
      'no',
      '>R.constructor',
      'r',
      '<R.constructor',
      'ReferenceError',
      '>D.constructor',
      'pre',
      '<D.constructor',
    ]);
  });

  it('exceptions unwinding through several frames close each once', async () => {
    const { log } = await events(`
      function a() { b() } function b() { c() } function c() { throw new Error('x') }
      try { a() } catch (e) { mark('caught') }
    `);
    assert.deepEqual(log, ['>a', '>b', '>c', '<c', '<b', '<a', 'caught']);
  });

  it('generators: one slice per resumption', async () => {
    const { log } = await events(`
      function* gen(n) { mark('start'); for (let i = 0; i < n; i++) { const got = yield i; mark('got' + got) } return 'done' }
      const it = gen(2);
      mark('created');
      it.next('a'); it.next('b'); it.next('c');
    `);
    assert.deepEqual(log, [
      'created',
      '>gen',
      'start',
      '<gen',
      '>gen',
      'gotb',
      '<gen',
      '>gen',
      'gotc',
      '<gen',
    ]);
  });

  it('generators: throw() caught inside re-enters before the catch code; return() runs finally inside the frame', async () => {
    const { log } = await events(`
      function* g2() { try { yield 1 } catch (e) { mark('caught ' + e) } yield 2 }
      const it = g2(); it.next(); it.throw('boom'); it.return(9);
      function* g3() { try { yield 1 } finally { mark('cleanup') } }
      const i3 = g3(); i3.next(); i3.return();
      function* g4() { yield; mark('resumed') }
      const i4 = g4(); i4.next(); i4.return();
    `);
    assert.deepEqual(log, [
      '>g2',
      '<g2',
      '>g2',
      'caught boom',
      '<g2',
      '>g3',
      '<g3',
      '>g3',
      'cleanup',
      '<g3',
      '>g4',
      '<g4',
    ]);
  });

  it('yield* delegates: the outer frame is closed while the inner one runs', async () => {
    const { log, value } = await events(`
      function* inner() { yield 1; yield 2 }
      function* outer() { yield* inner(); mark('after') }
      return [...outer()];
    `);
    assert.deepEqual(value, [1, 2]);
    assert.deepEqual(log, [
      '>outer',
      '<outer',
      '>inner',
      '<inner',
      '>inner',
      '<inner',
      '>inner',
      '<inner',
      '>outer',
      'after',
      '<outer',
    ]);
  });

  it('async functions interleave slice by slice', async () => {
    const { log } = await events(`
      async function a() { mark('a1'); await null; mark('a2'); await null; mark('a3') }
      async function b() { mark('b1'); await null; mark('b2') }
      return Promise.all([a(), b()]);
    `);
    assert.deepEqual(log, [
      '>a',
      'a1',
      '<a',
      '>b',
      'b1',
      '<b',
      '>a',
      'a2',
      '<a',
      '>b',
      'b2',
      '<b',
      '>a',
      'a3',
      '<a',
    ]);
  });

  it('a rejected await caught by the function re-enters before the catch code', async () => {
    const { log, value } = await events(`
      async function f() {
        try { mark('t'); await Promise.reject(new Error('r')); mark('never') }
        catch (e) { mark('c:' + e.message) }
        finally { mark('fin') }
        return 7;
      }
      return f();
    `);
    assert.equal(value, 7);
    assert.deepEqual(log, ['>f', 't', '<f', '>f', 'c:r', 'fin', '<f']);
  });

  it('rejections unwinding through async frames close each exactly once', async () => {
    const { log } = await events(`
      async function g() { await Promise.reject(new Error('g')) }
      async function h() { try { await g() } catch (e) { mark('h caught') } }
      async function k() { throw new Error('k') }
      async function m() { await null; throw new Error('m') }
      return h().then(() => k()).catch(() => m()).catch((e) => mark(e.message));
    `);
    assert.deepEqual(log, [
      '>h',
      '>g',
      '<g',
      '<h',
      '>h',
      'h caught',
      '<h',
      '><anonymous>',
      '>k',
      '<k',
      '<<anonymous>',
      '><anonymous>',
      '>m',
      '<m',
      '<<anonymous>',
      '>m',
      '<m',
      '><anonymous>',
      'm',
      '<<anonymous>',
    ]);
  });

  it('for await: continue, end of loop, implicit awaits of next()', async () => {
    const { log, value } = await events(`
      async function* src() { yield 1; yield 2; yield 3 }
      async function consume() {
        let sum = 0;
        for await (const v of src()) { if (v === 2) continue; sum += v; mark('v' + v) }
        mark('end'); return sum;
      }
      return consume();
    `);
    assert.equal(value, 4);
    assert.deepEqual(log, [
      '>consume',
      '<consume',
      '>src',
      '<src',
      '>consume',
      'v1',
      '<consume',
      '>src',
      '<src',
      '>consume',
      '<consume',
      '>src',
      '<src',
      '>consume',
      'v3',
      '<consume',
      '>src',
      '<src',
      '>consume',
      'end',
      '<consume',
    ]);
  });

  it('for await: break, labelled continue of an outer loop, throw out of the body', async () => {
    const { log } = await events(`
      async function* src() { yield 1; yield 2 }
      async function brk() { for await (const v of src()) { mark('v' + v); break } mark('after') }
      async function lab() { outer: for (const n of [1, 2]) { for await (const v of src()) { mark(n + ':' + v); continue outer } } mark('done') }
      async function thr() { try { L: for await (const v of src()) { throw new Error('t' + v) } } catch (e) { mark(e.message) } }
      return brk().then(lab).then(thr);
    `);
    assert.deepEqual(log, [
      '>brk',
      '<brk',
      '>src',
      '<src',
      '>brk',
      'v1',
      '<brk',
      '>brk',
      'after',
      '<brk',
      '>lab',
      '<lab',
      '>src',
      '<src',
      '>lab',
      '1:1',
      '<lab',
      '>lab',
      '<lab',
      '>src',
      '<src',
      '>lab',
      '2:1',
      '<lab',
      '>lab',
      'done',
      '<lab',
      '>thr',
      '<thr',
      '>src',
      '<src',
      '>thr',
      '<thr',
      '>thr',
      't1',
      '<thr',
    ]);
  });

  it('for await over a sync iterable of promises', async () => {
    const { log, value } = await events(`
      async function s() { const out = []; for await (const v of [Promise.resolve(1), 2]) out.push(v); return out }
      return s();
    `);
    assert.deepEqual(value, [1, 2]);
    assert.deepEqual(log, ['>s', '<s', '>s', '<s', '>s', '<s', '>s', '<s']);
  });

  it('nested awaits and awaits in arguments', async () => {
    const { log, value } = await events(`
      const p = (v) => Promise.resolve(v);
      async function n() { const a = await (await p(p(2))); return [a, Math.max(await p(1), await p(3))] }
      return n();
    `);
    assert.deepEqual(value, [2, 3]);
    const own = log.filter((e) => e.endsWith('n'));
    assert.deepEqual(own, ['>n', '<n', '>n', '<n', '>n', '<n', '>n', '<n', '>n', '<n']);
  });

  it('async arrows and async methods', async () => {
    const { log, value } = await events(`
      const aa = async x => (await x) + 1;
      class K { async m(v) { await null; return this.k + v } k = 1 }
      return Promise.all([aa(1), new K().m(2)]);
    `);
    assert.deepEqual(value, [2, 3]);
    assert.deepEqual(log, ['>aa', '<aa', '>K.m', '<K.m', '>aa', '<aa', '>K.m', '<K.m']);
  });

  it('async generators: yields, awaits, return of a rejected promise caught inside', async () => {
    const { log, value } = await events(`
      async function* ag() { yield 1; await null; mark('mid'); try { return Promise.reject(new Error('x')) } catch (e) { mark('caught') } }
      const it = ag();
      return it.next().then((a) => it.next().then((b) => [a, b]));
    `);
    assert.deepEqual(value, [
      { value: 1, done: false },
      { value: undefined, done: true },
    ]);
    assert.deepEqual(log, [
      '>ag',
      '<ag',
      '><anonymous>',
      '>ag',
      '<ag',
      '<<anonymous>',
      '>ag',
      'mid',
      '<ag',
      '>ag',
      'caught',
      '<ag',
      '><anonymous>',
      '<<anonymous>',
    ]);
  });

  it('early returns, break and continue out of try/finally in async functions', async () => {
    const { log, value } = await events(`
      async function e(n) {
        for (let i = 0; i < 3; i++) { try { if (i === 0) continue; await null; if (i === 1) break } finally { mark('f' + i) } }
        return n;
      }
      async function r() { try { return await 5 } finally { mark('rf') } }
      return Promise.all([e(9), r()]);
    `);
    assert.deepEqual(value, [9, 5]);
    assert.deepEqual(log, ['>e', 'f0', '<e', '>r', '<r', '>e', 'f1', '<e', '>r', 'rf', '<r']);
  });

  it('statements without semicolons before an await or yield statement (ASI)', async () => {
    const { log, value } = await events(`
      async function f() {
        const arr = [1]
        await null
        let x = arr
        await x
        switch (1) { case 1:
          x = {}
          await x }
        return 'ok'
      }
      function* g() {
        let v = 1
        yield
        v++
        yield v
        const w = yield
        [v].forEach((e) => mark('each' + e))
        v = yield
        (mark)('paren')
      }
      return f().then((r) => [r, ...g()]);
    `);
    assert.deepEqual(value, ['ok', undefined, 2, undefined, undefined]);
    assert.deepEqual(log.slice(0, 6), ['>f', '<f', '>f', '<f', '>f', '<f']);
  });

  it('awaits in a catch parameter default and in a for await head run inside the frame', async () => {
    const { log, value } = await events(`
      async function c() { try { await Promise.reject({}) } catch ({ v = await Promise.resolve(2) }) { return v } }
      async function h() { let s = 0; for await (const { v = await 1 } of [{}]) s += v; return s }
      return c().then((a) => h().then((b) => [a, b]));
    `);
    assert.deepEqual(value, [2, 1]);
    assert.deepEqual(log.slice(0, 4), ['>c', '<c', '>c', '<c']);
  });

  it('microtask order is unchanged (no extra promises or ticks)', async () => {
    const src = `
      const thenable = { then(r) { mark('thenable'); r(1) } };
      async function a() { mark('a0'); await null; mark('a1'); await thenable; mark('a2'); return Promise.resolve('a') }
      async function b() { mark('b0'); for await (const v of [1, Promise.resolve(2)]) mark('b' + v); mark('b-end') }
      async function* g() { yield 1; mark('g1'); yield Promise.resolve(2); mark('g2') }
      async function c() { for await (const v of g()) mark('c' + v) }
      Promise.resolve().then(() => mark('t1')).then(() => mark('t2')).then(() => mark('t3')).then(() => mark('t4'));
      queueMicrotask(() => mark('q'));
      return Promise.all([a().then((v) => mark('a-done ' + v)), b(), c()]).then(() => mark('all'));
    `;
    const r = await run(src);
    assertSameBehaviour(r);
    assert.ok(r.marks.length > 15);
    assert.ok(r.log.length > r.marks.length, 'no events were recorded');
  });

  it('creates exactly as many promises as the original', async () => {
    const src = `
      async function* g() { yield 1; await null; yield Promise.resolve(2) }
      async function a() { for await (const v of g()) await v; try { await Promise.reject(1) } catch { } return 5 }
      async function b() { for await (const v of [1, Promise.resolve(2)]) if (v > 1) break }
      return Promise.all([a(), b(), (async () => await a())()]);
    `;
    const count = async (code: string, rt: object | undefined): Promise<number> => {
      let n = 0;
      const hook = createHook({
        init(_id, type) {
          if (type === 'PROMISE') n++;
        },
      }).enable();
      try {
        await (evalScript(code, rt, {}) as Promise<unknown>);
      } finally {
        hook.disable();
      }
      return n;
    };
    const inst = instrument(src, { filename: 'p.js', sourceType: 'script' }).code;
    await count(src, undefined); // warm-up: first runs create one-time promises
    await count(inst, recordingRuntime([]).rt);
    const original = await count(src, undefined);
    const instrumented = await count(inst, recordingRuntime([]).rt);
    assert.ok(original > 10, `${original} promises`);
    assert.equal(instrumented, original);
  });
});
