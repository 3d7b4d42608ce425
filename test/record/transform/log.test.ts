import assert from 'node:assert/strict';
import { instrument, stripInstrumentation } from '../../../src/record/transform/index.js';
import { run, assertSameBehaviour, evalScript, recordingRuntime, LOG_ALL, type LogCall } from './helpers.js';

/** Runs with every logging option on, checks the behaviour, returns the logging calls. */
async function calls(src: string): Promise<{ calls: LogCall[]; value: unknown; log: string[] }> {
  const r = await run(src);
  assertSameBehaviour(r);
  return { calls: r.logged.calls, value: r.logged.value, log: r.logged.log };
}

const only = (cs: LogCall[], kind: string): unknown[][] =>
  cs.filter((c) => c[0] === kind).map((c) => c.slice(1));

describe('record/transform: value logging (log.args, log.return, log.exceptions)', () => {
  it('arguments of every function kind: binding names in source order, values after defaults', async () => {
    const { calls: cs } = await calls(`
      function decl(a, b = a + 1) { return 0 }
      const expr = function (x, ...rest) {};
      const arrow = (p) => p;
      const destr = ({ a, b: [c] }, ...rest) => {};
      const nested = function ({ o: { d = 4 } = {} }, [e, , [f]]) {};
      function none() {}
      function emptyPattern({}, []) {}
      function* gen(g) { yield g; yield g }
      async function asy(s) { await null; return s }
      class Base { constructor(v) { this.v = v } }
      class C extends Base {
        constructor(k, l) { const pre = k; super(pre + l) }
        m(q) {}
        get gt() { return 1 }
        set st(w) {}
        #priv(z) {}
        static sm(y) {}
        field = (fa) => fa;
        callPriv() { this.#priv(9) }
        static { mark('static') }
      }
      const obj = { om(u) {}, get og() { return 2 }, set os(t) {} };
      decl(1); expr(1, 2, 3); arrow(5); destr({ a: 1, b: [2] }, 3, 4); nested({}, [5, 6, [7]]);
      none(); emptyPattern({}, []);
      [...gen(8)];
      const c = new C(1, 2); c.m('q'); c.gt; c.st = 'w'; c.callPriv(); C.sm('y'); c.field('fa');
      obj.om('u'); obj.og; obj.os = 't';
      return asy('s');
    `);
    assert.deepEqual(only(cs, 'la'), [
      ['decl', 'a,b', [1, 2]],
      ['expr', 'x,rest', [1, [2, 3]]],
      ['arrow', 'p', [5]],
      ['destr', 'a,c,rest', [1, 2, [3, 4]]],
      ['nested', 'd,e,f', [4, 5, 7]],
      // the generator logs at its first entry only, not at each resumption
      ['gen', 'g', [8]],
      ['C.constructor', 'k,l', [1, 2]],
      ['Base.constructor', 'v', [3]],
      ['C.m', 'q', ['q']],
      ['C.set st', 'w', ['w']],
      ['C.#priv', 'z', [9]],
      ['C.sm', 'y', ['y']],
      ['C.field', 'fa', ['fa']],
      ['obj.om', 'u', ['u']],
      ['obj.set os', 't', ['t']],
      // the async function logs at its first entry only, not after the await
      ['asy', 's', ['s']],
    ]);
  });

  it('arguments are read after the defaults ran and before the body changes them; arguments object unchanged', async () => {
    const { calls: cs, value } = await calls(`
      function f(a, b = a * 10) { a = 'changed'; return [a, b, arguments[0], arguments.length] }
      function g(a) { 'use strict'; a = 2; return arguments[0] }
      function mapped(a) { a = 2; return arguments[0] }
      return [f(1), g(1), mapped(1)];
    `);
    assert.deepEqual(value, [['changed', 10, 1, 1], 1, 2]);
    assert.deepEqual(only(cs, 'la'), [
      ['f', 'a,b', [1, 10]],
      ['g', 'a', [1]],
      ['mapped', 'a', [1]],
    ]);
  });

  it('return values: sequences, arrow expression bodies, nested arrows, try/finally, await', async () => {
    const { calls: cs, value } = await calls(`
      function seq(a) { return a, a + 1 }
      const inc = (x) => x + 1;
      const curry = (a) => (b) => a + b;
      function tf() { try { return 'try' } finally { mark('finally') } }
      function over() { try { return 'lost' } finally { return 'finally' } }
      function bare() { if (true) return; }
      function noReturn() {}
      async function aw(p) { return await p }
      function* gen() { yield 1; return 2 }
      async function* agen() { yield 1; return 2 }
      const r = [seq(1), inc(1), curry(1)(2), tf(), over(), bare(), noReturn(), [...gen()]];
      return aw(Promise.resolve('aw')).then(async (v) => {
        for await (const x of agen()) mark('agen' + x);
        return [...r, v];
      });
    `);
    assert.deepEqual(value, [2, 2, 3, 'try', 'finally', undefined, undefined, [1], 'aw']);
    const lr = only(cs, 'lr');
    assert.deepEqual(lr.slice(0, 7), [
      ['seq', 2],
      ['inc', 2],
      ['curry', lr[2]![1]],
      ['<anonymous>', 3],
      ['tf', 'try'],
      ['over', 'lost'],
      ['over', 'finally'],
    ]);
    assert.equal(typeof lr[2]![1], 'function');
    // no return of a generator / async generator, none for `return;` or a missing return
    assert.deepEqual(lr.slice(7), [
      ['aw', 'aw'],
      ['<anonymous>', [2, 2, 3, 'try', 'finally', undefined, undefined, [1], 'aw']],
    ]);
  });

  it('ASI after a return or throw argument: the next line does not continue the logging call', async () => {
    const { calls: cs, value } = await calls(`
      function f() {
        return () => {}
        (mark)('unreached')
      }
      function g() {
        throw () => {}
        (mark)('unreached')
      }
      function h(a) {
        if (a) return a
        else return -a
      }
      let caught
      try { g() } catch (e) { caught = typeof e }
      return [typeof f(), caught, h(1), h(0)]
    `);
    assert.deepEqual(value, ['function', 'function', 1, -0]);
    assert.deepEqual(
      only(cs, 'lr').map((c) => [c[0], typeof c[1] === 'function' ? 'fn' : c[1]]),
      [
        ['f', 'fn'],
        ['h', 1],
        ['h', -0],
      ],
    );
  });

  it('throw and catch: in functions, at top level, rethrown; catch without a parameter or with a pattern is left alone', async () => {
    const { calls: cs, value } = await calls(`
      function thrower(v) { throw v }
      function rethrow() { try { thrower('a') } catch (e) { throw e + '!' } }
      const out = [];
      try { rethrow() } catch (err) { out.push(err) }
      try { thrower('b') } catch { out.push('no param') }
      try { thrower({ p: 'c' }) } catch ({ p }) { out.push(p) }
      try { throw 'top' } catch (t) { out.push(t) }
      return out;
    `);
    assert.deepEqual(value, ['a!', 'no param', 'c', 'top']);
    assert.deepEqual(
      cs.filter((c) => c[0] === 'lt' || c[0] === 'lc'),
      [
        ['lt', 'a'],
        ['lc', 'a'],
        ['lt', 'a!'],
        ['lc', 'a!'],
        ['lt', 'b'],
        ['lt', { p: 'c' }],
        ['lt', 'top'],
        ['lc', 'top'],
      ],
    );
  });

  it('an uncaught top-level throw is logged and still thrown', async () => {
    const r = await run(`mark('before'); throw new TypeError('boom')`);
    assertSameBehaviour(r);
    assert.equal(String(r.logged.error), 'TypeError: boom');
    assert.equal(r.logged.calls.length, 1);
    assert.equal(r.logged.calls[0]![0], 'lt');
    assert.equal(r.logged.calls[0]![1], r.logged.error);
    // a file without functions is instrumented only for its top-level throw / catch
    assert.deepEqual(r.result.frames, []);
    assert.equal(r.result.code, `mark('before'); throw new TypeError('boom')`);
    assert.deepEqual(r.logged.result.frames, []);
    assert.equal(stripInstrumentation(r.logged.result.code), `mark('before'); throw new TypeError('boom')`);
  });

  it('in a suspending function the catch logs after re-entering; rejections are logged where caught', async () => {
    const src = `
      async function f(p) { try { await p } catch (e) { mark('caught ' + e); return e } }
      return f(Promise.reject('no'));
    `;
    const r = instrument(src, { filename: 't.js', sourceType: 'script', log: LOG_ALL });
    assert.ok(r.code.includes('catch (e) {__vzs||(__vzs=1,__vze(__vzb+0));__vzlc(e); mark('), r.code);
    const { calls: cs, value, log } = await calls(src);
    assert.equal(value, 'no');
    assert.deepEqual(log, ['>f', '<f', '>f', 'caught no', '<f']);
    assert.deepEqual(
      cs.map((c) => (c[0] === 'la' ? c.slice(0, 3) : c)),
      [
        ['la', 'f', 'p'],
        ['lc', 'no'],
        ['lr', 'f', 'no'],
      ],
    );
    assert.ok((cs[0]![3] as unknown[])[0] instanceof Promise);
  });

  it('exact fragments', () => {
    const src = 'function f(a, { b }) { try { throw a } catch (e) { return a, b; } }\nconst g = (x) => x;';
    const r = instrument(src, { filename: 't.js', sourceType: 'script', log: LOG_ALL });
    const body = r.code.slice(r.code.indexOf('function __vzlc(){}') + 'function __vzlc(){}'.length);
    assert.equal(
      body,
      'function f(a, { b }) {;__vze(__vzb+0);__vzla(__vzb+0,"a,b",a,b);try{ try { throw __vzlt((a)/*__vz;*/); } ' +
        'catch (e) {__vzlc(e); return __vzlr(__vzb+0,(a, b)/*__vz*/); } }finally{__vzx(__vzb+0)}}\n' +
        'const g = (x) => {__vze(__vzb+1);__vzla(__vzb+1,"x",x);try{return __vzlr(__vzb+1,(x)/*__vz*/)}finally{__vzx(__vzb+1)};};',
    );
    assert.ok(
      r.code.includes(
        '__vzla=__vzr.la||__vzla;__vzlr=__vzr.lr||__vzlr;__vzlt=__vzr.lt||__vzlt;__vzlc=__vzr.lc||__vzlc;' +
          'function __vzla(){}function __vzlr(i,v){return v}function __vzlt(e){return e}function __vzlc(){}',
      ),
    );
    assert.equal(stripInstrumentation(r.code), src);
    // each option alone inserts only its own fragments
    const args = instrument(src, { filename: 't.js', sourceType: 'script', log: { args: true } }).code;
    assert.ok(
      args.includes('__vzla(__vzb+0') && !args.includes('__vzlr(__vzb') && !args.includes('__vzlt(('),
    );
    const ret = instrument(src, { filename: 't.js', sourceType: 'script', log: { return: true } }).code;
    assert.ok(!ret.includes('__vzla(__vzb') && ret.includes('__vzlr(__vzb+0') && !ret.includes('__vzlc(e)'));
    const exc = instrument(src, { filename: 't.js', sourceType: 'script', log: { exceptions: true } }).code;
    assert.ok(!exc.includes('__vzla(__vzb') && !exc.includes('__vzlr(__vzb') && exc.includes('__vzlc(e)'));
  });

  it('a runtime without the logging functions still runs the logging code', () => {
    const src = 'function f(a) { try { throw a } catch (e) { return e * 2 } }\nreturn f(21);';
    const r = instrument(src, { filename: 't.js', sourceType: 'script', log: LOG_ALL });
    const log: string[] = [];
    assert.equal(evalScript(r.code, recordingRuntime(log).rt, {}), 42);
    assert.deepEqual(log, ['>f', '<f']);
  });
});

describe('record/runtime: instrumentFile passes the log configuration through', () => {
  it('log in the InstrumentConfig reaches the transform', async () => {
    const { instrumentFile } = await import('../../../src/record/runtime/instrument-file.js');
    const src = 'function f(a) { return a }\n';
    const cfg = { root: '/nonexistent-viz-root', cacheDir: '' };
    const plain = instrumentFile(src, '/p/a.js', 'script', cfg)!;
    const logged = instrumentFile(src, '/p/a.js', 'script', { ...cfg, log: { return: true } })!;
    assert.ok(!plain.includes('__vzlr('));
    assert.ok(logged.includes('return __vzlr(__vzb+0,(a)/*__vz;*/); }'));
  });
});
