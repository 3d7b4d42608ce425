/**
 * Transform additions for `viz record` across async code: async spans around suspending
 * activations, sparse mode (`only`), and compiler helpers on minified lines staying unmapped.
 */
import assert from 'node:assert/strict';
import { instrument, stripInstrumentation } from '../../../src/record/transform/index.js';
import { evalScript } from './helpers.js';

describe('record/transform: async spans, sparse mode, helpers', () => {
  it('a suspending activation is one async span: begin before its first entry, end after its last exit', async () => {
    const src = 'async function f(x) { await null; await null; return x + 1 }\nreturn f(1);';
    const r = instrument(src, { filename: '/t/a.js', sourceType: 'script' });
    const log: string[] = [];
    let span = 0;
    const rt = {
      reg: () => 1,
      e: (id: number) => log.push(`>${id}`),
      x: (id: number) => log.push(`<${id}`),
      ab: (id: number) => (log.push(`b${id}`), ++span),
      ae: (id: number, s: number) => log.push(`e${id}:${s}`),
    };
    const value = await (evalScript(r.code, rt, {}) as Promise<number>);
    assert.equal(value, 2);
    assert.deepEqual(log, ['b1', '>1', '<1', '>1', '<1', '>1', '<1', 'e1:1']);
    assert.equal(stripInstrumentation(r.code), src);
  });

  it('a throwing async function still ends its span once', async () => {
    const src = 'async function f() { await null; throw new Error("x") }\nreturn f();';
    const r = instrument(src, { filename: '/t/b.js', sourceType: 'script' });
    const log: string[] = [];
    const rt = {
      reg: () => 1,
      e() {},
      x() {},
      ab: () => 7,
      ae: (_: number, s: number) => log.push(`e:${s}`),
    };
    await assert.rejects(evalScript(r.code, rt, {}) as Promise<unknown>, /x/);
    assert.deepEqual(log, ['e:7']);
  });

  it('without ab/ae in the runtime (an older preload) the code still runs', async () => {
    const src = 'async function f() { await null; return 5 }\nreturn f();';
    const r = instrument(src, { filename: '/t/c.js', sourceType: 'script' });
    assert.equal(await (evalScript(r.code, { reg: () => 1, e() {}, x() {} }, {}) as Promise<number>), 5);
  });

  it('only: instruments the listed functions and skips the others (not-selected)', () => {
    const src =
      'async function a(x){ return await b(x) }\nasync function b(x){ await 0; return x }\nclass C { m(){ return a(1) } }';
    const r = instrument(src, { filename: '/t/d.js', sourceType: 'module', only: ['b', 'C.m'] });
    assert.deepEqual(
      r.frames.map((f) => f.name),
      ['b', 'C.m'],
    );
    assert.deepEqual(r.skipped, [{ name: 'a', line: 1, column: 1, reason: 'not-selected' }]);
    assert.match(r.code, /async function a\(x\)\{ return await b\(x\) \}/);
  });

  it('a helper a compiler put before mapped code on the same (minified) line stays unmapped', () => {
    // generated: `var h=(a)=>a;function f(){return 1}` where only `function f` has a segment
    const code = 'var h=(a)=>a;function f(){return 1}';
    const inputMap = {
      version: 3,
      sources: ['/t/orig.ts'],
      names: [],
      // one segment at generated column 13 (`function`) -> source line 5, column 0
      mappings: '0BAIA',
    };
    const r = instrument(code, { filename: '/t/gen.js', sourceType: 'script', inputMap });
    assert.deepEqual(
      r.frames.map((f) => [f.name, f.line]),
      [['f', 5]],
    );
    assert.deepEqual(
      r.skipped.map((s) => [s.name, s.reason]),
      [['h', 'unmapped']],
    );
  });
});
