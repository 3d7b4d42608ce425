import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import MagicString from 'magic-string';
import { instrument, stripInstrumentation } from '../../../src/record/transform/index.js';
import { run, assertSameBehaviour, evalScript, recordingRuntime, LOG_ALL, type LogCall } from './helpers.js';

// One function of every kind; the program returns them all.
const KINDS = `
  function decl(a, b) { return a + b }
  const expr = function named(a, ...rest) { return rest.length };
  const arrow = (a, b = 1) => a * b;
  const arrowBlock = ({ a }, [b] = [2]) => { return a + b };
  const arrowParen = x => (
    x + 1
  );
  function* gen(a) { yield a; yield; return 1 }
  async function asy(a) { return await a }
  async function* asyGen(a) { for await (const v of [a]) yield v }
  const asyArrow = async (a) => await a;
  const emptyFn = function () {};
  function strictFn() { 'use strict'
    return this }
  class Base { constructor(x) { this.x = x } }
  class Derived extends Base {
    constructor(a, b) { const pre = a; super(pre); this.b = b }
    method(a, b, c) { return a }
    get prop() { return this.x }
    set prop(v) { this.x = v }
    static stat() {}
    async am() { await null }
    *gm() { yield 1 }
    #priv(a) { return a }
    fieldArrow = (q) => q;
    ['comp' + 'uted'](a) {}
    privRef() { return this.#priv }
    static {}
  }
  const obj = { m(a) {}, get g() { return 1 }, set s(v) {}, p: function (a, b) {}, *og() {}, async oa() {} };
  const d = Object.getOwnPropertyDescriptor(Derived.prototype, 'prop');
  const od = Object.getOwnPropertyDescriptor(obj, 'g');
  const os = Object.getOwnPropertyDescriptor(obj, 's');
  const inst = new Derived(1, 2);
  return [decl, expr, arrow, arrowBlock, arrowParen, gen, asy, asyGen, asyArrow, emptyFn, strictFn, Base, Derived,
    Derived.prototype.method, d.get, d.set, Derived.stat, Derived.prototype.am, Derived.prototype.gm, inst.privRef(),
    inst.fieldArrow, Derived.prototype.computed, obj.m, od.get, os.set, obj.p, obj.og, obj.oa];
`;

function fns(code: string, rt?: object): Array<(...a: unknown[]) => unknown> {
  return evalScript(code, rt, {}) as Array<(...a: unknown[]) => unknown>;
}

describe('record/transform: semantics are preserved', () => {
  const result = instrument(KINDS, { filename: 'kinds.js', sourceType: 'script' });
  const orig = fns(KINDS);
  const inst = fns(result.code, recordingRuntime([]).rt);

  it('instruments every function of the kinds program', () => {
    assert.equal(inst.length, orig.length);
    // one frame per function written in the source
    assert.equal(result.frames.length, 30);
    assert.deepEqual(result.skipped, []);
    const kinds = new Set(result.frames.map((f) => f.kind));
    for (const k of [
      'function',
      'generator',
      'async',
      'asyncGenerator',
      'getter',
      'setter',
      'constructor',
      'static-block',
      'method',
      'arrow',
    ]) {
      assert.ok(kinds.has(k as never), `no frame of kind ${k}`);
    }
  });

  it('Function.prototype.toString after stripInstrumentation is the original text, for every kind', () => {
    let changed = 0;
    for (const [i, f] of inst.entries()) {
      const o = orig[i]!;
      if (f.toString() !== o.toString()) changed++;
      assert.equal(stripInstrumentation(f.toString()), o.toString(), `function ${i} (${o.name})`);
    }
    assert.ok(changed >= 25, `only ${changed} functions changed text`);
    assert.equal(stripInstrumentation(result.code), KINDS);
  });

  it('stripping is exact where original text touches the inserted fragments', () => {
    const src = [
      'function f(){return 1}',
      'const g=x=>x;',
      'async function h(){try{await 1}catch{try{}catch{}}finally{try{}finally{}}}',
      'async function i(){for await(const v of[]){try{}finally{}}}',
      'function* j(){yield;yield}',
      'const k=()=>{};',
      'async function*l(){return 1}',
    ].join('\n');
    const r = instrument(src, { filename: 't.js', sourceType: 'script' });
    assert.notEqual(r.code, src);
    assert.equal(stripInstrumentation(r.code), src);
    const logSrc = [
      src,
      'function m(a){return(a)}',
      'function n(a){return a}function o(){throw(1)}',
      'const p=a=>b=>(c)=>a;',
      'function q(e){try{throw e}catch(e){throw(e)}}',
      'function r(){return()=>{}',
      '}',
      'try{throw 0}catch(e){}try{}catch{}try{}catch({e}){}',
      'async function s(x){try{return await x}catch(e){return}finally{}}',
      'function t(...a){return a,1}',
      'function u(a){return a;}function v(a){return a',
      ';throw a;}',
    ].join('\n');
    for (const log of [LOG_ALL, { args: true }, { return: true }, { exceptions: true }]) {
      const l = instrument(logSrc, { filename: 't.js', sourceType: 'script', log });
      assert.notEqual(l.code, logSrc);
      assert.equal(stripInstrumentation(l.code), logSrc, JSON.stringify(log));
    }
  });

  it('with value logging: toString strips back, length, name and lines are unchanged, the kinds still run', () => {
    const logged = instrument(KINDS, { filename: 'kinds.js', sourceType: 'script', log: LOG_ALL });
    assert.equal(stripInstrumentation(logged.code), KINDS);
    assert.equal(logged.code.split('\n').length, KINDS.split('\n').length);
    assert.deepEqual(logged.frames, result.frames);
    const calls: LogCall[] = [];
    const linst = fns(logged.code, recordingRuntime([], calls).rt);
    let changed = 0;
    for (const [i, f] of linst.entries()) {
      const o = orig[i]!;
      if (f.toString() !== inst[i]!.toString()) changed++;
      assert.equal(stripInstrumentation(f.toString()), o.toString(), `function ${i} (${o.name})`);
      assert.equal(f.length, o.length, `length of ${o.name}`);
      assert.equal(f.name, o.name, `name of function ${i}`);
    }
    assert.ok(changed >= 20, `only ${changed} functions differ from the output without logging`);
    // the program itself ran: the derived constructor logs its arguments before super(), privRef its return
    assert.deepEqual(calls.slice(0, 2), [
      ['la', 'Derived.constructor', 'a,b', [1, 2]],
      ['la', 'Base.constructor', 'x', [1]],
    ]);
    assert.equal(calls.length, 3);
    assert.deepEqual(calls[2]!.slice(0, 2), ['lr', 'Derived.privRef']);
    assert.equal(typeof calls[2]![2], 'function');
  });

  it('default output is unchanged by the log option when no logging is asked for', () => {
    for (const log of [undefined, {}, { args: false, return: false, exceptions: false }]) {
      const r = instrument(KINDS, { filename: 'kinds.js', sourceType: 'script', log });
      assert.equal(r.code, result.code);
      assert.deepEqual(r.map, result.map);
    }
    assert.ok(!result.code.includes('__vzl'));
    const top = 'try { throw 1 } catch (e) {}';
    assert.equal(instrument(top, { filename: 't.js', sourceType: 'script' }).code, top);
  });

  it('length and name are unchanged', () => {
    for (const [i, f] of inst.entries()) {
      const o = orig[i]!;
      assert.equal(f.length, o.length, `length of ${o.name}`);
      assert.equal(f.name, o.name, `name of function ${i}`);
    }
  });

  it('adds no line breaks: every line keeps its number', () => {
    assert.equal(result.code.split('\n').length, KINDS.split('\n').length);
    // names may hold U+2028/U+2029 (JS line terminators): the prologue escapes them
    const src = "const o = { 'a\u2028b'() {} };\n";
    const r = instrument(src, { filename: 'ls.js', sourceType: 'script' });
    const terminators = /\r\n|[\n\r\u2028\u2029]/;
    assert.equal(r.code.split(terminators).length, src.split(terminators).length);
    assert.equal(r.frames[0]!.name, 'o.a\u2028b');
  });

  it('this, arguments, new.target, super, default and destructured parameters', async () => {
    const r = await run(`
      function outer() { const a = () => arguments[0] + arguments.length; return a(100) }
      function t() { return this && this.tag }
      function nt() { return new.target === nt }
      class A { who() { return 'A' } }
      class B extends A { who() { const f = () => super.who(); return 'B' + f() } }
      function d({ a, b = 2 } = {}, [c] = [3], ...rest) { return [a, b, c, rest] }
      function args(a) { a = 5; return arguments[0] }
      const self = { tag: 'obj', m() { return [t.call(this), (() => this.tag)()] } };
      return [outer(7, 8), t.call({ tag: 'x' }), nt(), new nt() instanceof nt, new B().who(), d(), d({ a: 1 }, [4], 5, 6), args(1), self.m()];
    `);
    assertSameBehaviour(r);
    assert.deepEqual(r.value, [
      9,
      'x',
      false,
      true,
      'BA',
      [undefined, 2, 3, []],
      [1, 2, 4, [5, 6]],
      5,
      ['obj', 'obj'],
    ]);
  });

  it('strict mode: program and function directives stay directives', async () => {
    const strictProgram = await run(`'use strict'
      function f() { return this }
      try { undeclared = 1 } catch (e) { mark(e.name) }
      return [f(), (() => typeof this)()];
    `);
    assertSameBehaviour(strictProgram);
    assert.deepEqual(strictProgram.marks, ['ReferenceError']);
    assert.equal((strictProgram.value as unknown[])[0], undefined);
    const fnDirective = await run(`
      function s() { "use strict"
        return this }
      function sloppy() { return this }
      return [s() === undefined, sloppy() === globalThis];
    `);
    assertSameBehaviour(fnDirective);
    assert.deepEqual(fnDirective.value, [true, true]);
  });

  it('hoisting, labels, var in blocks, computed keys, optional chaining, templates, regexes', async () => {
    const r = await run(`
      function h() { x = inner(); var x; return x; function inner() { return 'hoisted' } }
      function l() { let n = 0; a: for (;;) { b: for (;;) { n++; if (n > 2) break a; continue a } } return n }
      const key = 'dyn';
      class K extends (function () { return class { base() { return 'b' } } })() { [key + 'M']() { return this.base() } static [Symbol.for('s')]() { return 's' } }
      const t = (o) => \`\${o?.a?.b ?? 'none'}-\${/x+/.test('xx')}-\${o?.f?.() ?? 'nf'}\`;
      return [h(), l(), new K().dynM(), K[Symbol.for('s')](), t({ a: { b: 1 } }), t(null)];
    `);
    assertSameBehaviour(r);
    assert.deepEqual(r.value, ['hoisted', 3, 'b', 's', '1-true-nf', 'none-true-nf']);
    const names = r.result.frames.map((f) => f.name);
    assert.ok(names.includes("K.[key + 'M']"), names.join());
    assert.ok(names.includes("K.[Symbol.for('s')]"), names.join());
  });

  it('a var and a top-level function declaration of the same name: left uninstrumented, still works', async () => {
    const r = await run(`
      function w() { var q = 1; function q() {} return typeof q }
      function ok() { return 1 }
      function ev() { eval('var e = 2'); function e() {} return e }
      function pa(a) { function a() {} return typeof arguments[0] }
      return [w(), ok(), ev(), pa(1)];
    `);
    assertSameBehaviour(r);
    assert.deepEqual(r.value, ['number', 1, 2, 'function']);
    assert.deepEqual(
      r.result.skipped.map((s) => [s.name, s.reason]),
      [
        ['w', 'block-scope'],
        ['ev', 'block-scope'],
        ['pa', 'block-scope'],
      ],
    );
    assert.deepEqual(r.log, ['>ok', '<ok']);
  });

  it('runs without the runtime global (no preload): falls back to a no-op runtime', () => {
    const r = instrument('function f() { return 42 } return f();', {
      filename: 'x.js',
      sourceType: 'script',
    });
    assert.notEqual(r.code, 'function f() { return 42 } return f();');
    assert.equal(evalScript(r.code, undefined, {}), 42);
    // the logging fallbacks return what the runtime's functions would
    const src =
      'function f(a) { try { throw a } catch (e) { return e + 1 } } try { throw f(41) } catch (e) { return e }';
    const l = instrument(src, { filename: 'x.js', sourceType: 'script', log: LOG_ALL });
    assert.ok(l.code.includes('__vzlr('));
    assert.equal(evalScript(l.code, undefined, {}), 42);
    // an older runtime without la/lr/lt/lc
    const log: string[] = [];
    assert.equal(evalScript(l.code, recordingRuntime(log).rt, {}), 42);
    assert.deepEqual(log, ['>f', '<f']);
  });

  it('is idempotent: instrumented source comes back unchanged, with its frames', () => {
    const again = instrument(result.code, { filename: 'kinds.js', sourceType: 'script' });
    assert.equal(again.code, result.code);
    assert.deepEqual(again.frames, result.frames);
    const logged = instrument(KINDS, { filename: 'kinds.js', sourceType: 'script', log: LOG_ALL });
    const again2 = instrument(logged.code, { filename: 'kinds.js', sourceType: 'script', log: LOG_ALL });
    assert.equal(again2.code, logged.code);
    assert.deepEqual(again2.frames, logged.frames);
  });

  it('keeps a hashbang first and the prologue on line 1 after the directive prologue (ESM)', async () => {
    const src = "#!/usr/bin/env node\n'use strict'\nexport function f() { return 1 }\n";
    const r = instrument(src, { filename: 'm.mjs', sourceType: 'module' });
    const lines = r.code.split('\n');
    assert.equal(lines[0], '#!/usr/bin/env node');
    assert.match(lines[1]!, /^'use strict';var __vzr=/);
    assert.equal(lines.length, src.split('\n').length);
    const log: string[] = [];
    (globalThis as Record<string, unknown>).__viz_rt = recordingRuntime(log).rt;
    try {
      const mod = (await import('data:text/javascript,' + encodeURIComponent(r.code))) as { f: () => number };
      assert.equal(mod.f(), 1);
    } finally {
      delete (globalThis as Record<string, unknown>).__viz_rt;
    }
    assert.deepEqual(log, ['>f', '<f']);
  });

  it('ES module cycle: a hoisted function called before its module body ran does not fail', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'viz-cycle-'));
    try {
      const files: Record<string, string> = {
        'a.mjs':
          "import { fromB } from './b.mjs';\nexport function hoisted(x) { return x + 1 }\nexport const later = () => hoisted(fromB);\n",
        'b.mjs': "import { hoisted } from './a.mjs';\nexport const fromB = hoisted(1);\n",
      };
      for (const [name, src] of Object.entries(files)) {
        const r = instrument(src, { filename: name, sourceType: 'module' });
        assert.ok(r.frames.length > 0 || name === 'b.mjs');
        fs.writeFileSync(path.join(dir, name), r.code);
      }
      const log: string[] = [];
      (globalThis as Record<string, unknown>).__viz_rt = recordingRuntime(log).rt;
      try {
        const a = (await import(pathToFileURL(path.join(dir, 'a.mjs')).href)) as { later: () => number };
        assert.equal(a.later(), 3);
      } finally {
        delete (globalThis as Record<string, unknown>).__viz_rt;
      }
      // the call made during the cycle is not recorded; later ones are
      assert.deepEqual(log, ['>later', '>hoisted', '<hoisted', '<later']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not touch top-level await and for await of modules', () => {
    const src =
      'const a = await 1;\nfor await (const x of [1]) {}\nexport const f = async () => { await a };\n';
    const r = instrument(src, { filename: 'm.mjs', sourceType: 'module' });
    assert.ok(r.code.includes('const a = await 1;\nfor await (const x of [1]) {}\n'));
    assert.equal(r.frames.length, 1);
  });

  it('frame names, kinds and 1-based positions', () => {
    const src = [
      'const a = () => 1;',
      'class C { m() {} static s() {} get g() { return 1 } #p() {} constructor() {} static {} f = () => {} }',
      'const o = { x() {}, y: function () {}, z: function named() {} };',
      'module.exports.h = function () {};',
      'export default function () {}',
    ].join('\n');
    const r = instrument(src, { filename: '/p/n.js', sourceType: 'module' });
    assert.deepEqual(
      r.frames.map((f) => `${f.name} ${f.kind} ${f.line}:${f.column}`),
      [
        'a arrow 1:11',
        'C.m method 2:11',
        'C.s method 2:18',
        'C.get g getter 2:32',
        'C.#p method 2:53',
        'C.constructor constructor 2:61',
        'C.<static> static-block 2:78',
        'C.f arrow 2:92',
        'o.x method 3:13',
        'o.y function 3:24',
        'named function 3:43',
        'module.exports.h function 4:20',
        'default function 5:16',
      ],
    );
    assert.ok(r.frames.every((f) => f.file === '/p/n.js'));
  });

  it('frames through an input map whose sources are file URLs name plain paths', () => {
    const src = 'const pad = 1;\nfunction f() { return 1 }\n';
    const inputMap = new MagicString(src).generateMap({ hires: true, source: 'file:///abs/x.ts' });
    const r = instrument(src, {
      filename: '/abs/x.js',
      sourceType: 'script',
      inputMap: JSON.parse(inputMap.toString()) as object,
    });
    assert.deepEqual(r.frames, [{ name: 'f', file: '/abs/x.ts', line: 2, column: 1, kind: 'function' }]);
  });

  it('deep expressions (a 4000-term sum) do not overflow the stack', async () => {
    const r = await run('function f(a) { return ' + Array(4000).fill('a').join(' + ') + ' }\nreturn f(1);');
    assertSameBehaviour(r);
    assert.equal(r.value, 4000);
    assert.deepEqual(r.log, ['>f', '<f']);
  });

  it('reports an unusable input map as a VizError', () => {
    assert.throws(
      () => instrument('function f() {}', { filename: 'm.js', sourceType: 'script', inputMap: '{not json' }),
      (e: Error) => e.name === 'VizError' && /m\.js: unusable input source map/.test(e.message),
    );
  });

  it('reports a parse error as a VizError naming the file and offset', () => {
    assert.throws(
      () => instrument('function (', { filename: 'bad.js', sourceType: 'script' }),
      (e: Error) => e.name === 'VizError' && /bad\.js: byte \d+: cannot parse/.test(e.message),
    );
  });
});
