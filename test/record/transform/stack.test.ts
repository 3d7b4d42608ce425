import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { transformSync } from 'esbuild';
import MagicString from 'magic-string';
import {
  instrument,
  readInlineSourceMap,
  inlineSourceMapComment,
} from '../../../src/record/transform/index.js';

// Each case throws from a different kind of function; the program prints, for
// every error, the frames of its stack that lie in this file (name + line:col).
const PROGRAM = `'use strict';
const out = [];
const frames = (e) => e.stack.split('\\n').slice(1).filter((l) => l.includes('prog.')).map((l) => l.trim().replace(/[^ (]*prog\\.(cjs|ts)/, 'prog'));
function rec(f) { try { f() } catch (e) { out.push(frames(e)) } }
async function arec(f) { try { await f() } catch (e) { out.push(frames(e)) } }
function decl() { throw new Error('decl') }
const arrow = () => null.x;
const arrowBody = (a) => { return a.b.c };
class B { constructor() { this.v = 1 } }
class D extends B {
  constructor(early) { if (early) undefinedFn(); super(); if (!early) this.late() }
  late() { return [1].map(x => x.y.z) }
  get g() { throw new TypeError('g') }
  static { try { null.q } catch (e) { out.push(frames(e)) } }
}
function* gen() { yield 1; throw new Error('gen') }
async function asy() { await null; await Promise.reject(new Error('asy')) }
async function asy2(o) { await o; return o.p.q }
async function* agen() { yield 1; await null; throw new RangeError('agen') }
class E { f = () => null.w; #p() { return null.z } callP() { return this.#p() } set s(v) { v.q.r } }
const obj = { get p() { return nope }, m() { return \`\${this.p}\` } };
rec(decl); rec(arrow); rec(() => arrowBody({})); rec(() => new D(true)); rec(() => new D(false));
rec(() => Reflect.get(D.prototype, 'g')); rec(() => [...gen()]); rec(() => obj.m());
rec(() => new E().f()); rec(() => new E().callP()); rec(() => { new E().s = {} });
(async () => {
  await arec(asy); await arec(() => asy2({})); await arec(async () => { for await (const v of agen()) {} });
  console.log(JSON.stringify(out));
})();
`;

function runNode(dir: string, file: string, code: string): string[][] {
  fs.mkdirSync(dir, { recursive: true });
  const p = path.join(dir, file);
  fs.writeFileSync(p, code);
  const stdout = execFileSync(process.execPath, ['--enable-source-maps', p], { encoding: 'utf8' });
  return JSON.parse(stdout) as string[][];
}

const inlineMap = (map: object): string =>
  `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;

describe('record/transform: stack traces through the source map', function () {
  this.timeout(60000);
  let tmp = '';
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'viz-transform-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('errors thrown from instrumented code report the original line:column', () => {
    // the baseline also goes through Node's source-mapped stack formatting (identity map)
    const identity = new MagicString(PROGRAM).generateMap({ hires: true, source: 'prog.cjs' });
    const expected = runNode(path.join(tmp, 'orig'), 'prog.cjs', PROGRAM + inlineMap(identity));
    const r = instrument(PROGRAM, { filename: path.join(tmp, 'inst', 'prog.cjs'), sourceType: 'script' });
    const actual = runNode(path.join(tmp, 'inst'), 'prog.cjs', r.code + inlineMap(r.map!));
    if (process.env.VIZ_DEBUG) console.log(JSON.stringify(expected, null, 1));
    assert.equal(expected.length, 15);
    assert.ok(expected.every((s) => s.length > 0));
    assert.deepEqual(actual, expected);
    // without the map the columns would differ: the comparison can fail
    const unmapped = runNode(path.join(tmp, 'nomap'), 'prog.cjs', r.code);
    assert.notDeepEqual(unmapped, expected);
  });

  it('the loader flow: inline map read from the code (as tsx leaves it), ours appended after it', () => {
    const ts =
      'function thrower(x: number): never {\n  throw new Error(String(x))\n}\ntry { thrower(1) } catch (e) { console.log(JSON.stringify((e as Error).stack!.split("\\n").slice(1, 3).map((l) => l.trim().replace(/[^ (]*prog\\.(cjs|ts)/, "prog")))) }\n';
    const out = transformSync(ts, {
      loader: 'ts',
      format: 'cjs',
      sourcemap: 'inline',
      sourcefile: 'prog.ts',
      keepNames: true,
    });
    const inputMap = readInlineSourceMap(out.code);
    assert.ok(inputMap);
    const plain = runNode(path.join(tmp, 'flow-plain'), 'prog.cjs', out.code);
    const r = instrument(out.code, {
      filename: path.join(tmp, 'flow-inst', 'prog.cjs'),
      sourceType: 'script',
      inputMap,
    });
    assert.ok(r.code.includes('sourceMappingURL=data:'), 'the old comment is still there');
    const actual = runNode(path.join(tmp, 'flow-inst'), 'prog.cjs', r.code + inlineSourceMapComment(r.map!));
    assert.deepEqual(plain, ['at thrower (prog:2:9)', 'at Object.<anonymous> (prog:4:7)']);
    assert.deepEqual(actual, plain);
    assert.deepEqual(readInlineSourceMap(r.code + inlineSourceMapComment(r.map!)), r.map);
    assert.equal(readInlineSourceMap('no map here'), null);
  });

  it('composes with an input map (TypeScript through esbuild, as tsx does): .ts positions and frames', () => {
    const ts = PROGRAM.replace('function decl() {', 'function decl(): never {')
      .replace('const arrowBody = (a) =>', 'const arrowBody = (a: any): number =>')
      .replace('class B {', 'interface I { x: number }\ntype T = I;\nclass B {')
      .replace(/^const frames = \(e\)/m, 'const frames = (e: any)')
      .replace('function rec(f)', 'function rec(f: () => unknown)')
      .replace('async function arec(f)', 'async function arec(f: () => unknown)')
      .replace('async function asy2(o)', 'async function asy2(o: any)')
      .replace('const obj = {', 'const obj: any = {')
      .replace('const out = [];', 'const out: string[][] = [];')
      .replace('constructor(early) {', 'constructor(early?: boolean) {')
      .replace('x => x.y.z', '(x: any) => x.y.z')
      .replace('set s(v) {', 'set s(v: any) {');
    const out = transformSync(ts, {
      loader: 'ts',
      format: 'cjs',
      sourcemap: 'external',
      sourcefile: 'prog.ts',
      keepNames: true,
      target: 'node20',
    });
    const inputMap = JSON.parse(out.map) as object;
    const plain = runNode(path.join(tmp, 'ts-plain'), 'prog.cjs', out.code + inlineMap(inputMap));
    const r = instrument(out.code, {
      filename: path.join(tmp, 'ts-inst', 'prog.cjs'),
      sourceType: 'script',
      inputMap,
    });
    const actual = runNode(path.join(tmp, 'ts-inst'), 'prog.cjs', r.code + inlineMap(r.map!));
    assert.deepEqual(actual, plain);
    assert.ok(
      plain.flat().some((l) => l.includes('prog:')),
      'stack frames map to prog.ts',
    );
    // frames point into the .ts source
    const tsLines = ts.split('\n');
    const decl = r.frames.find((f) => f.name === 'decl')!;
    assert.match(decl.file, /prog\.ts$/);
    assert.match(tsLines[decl.line - 1]!.slice(decl.column - 1), /^function decl\(\): never/);
    const late = r.frames.find((f) => f.name === 'D.late')!;
    assert.match(tsLines[late.line - 1]!.slice(late.column - 1), /^late\(\)/);
    // the compiler's helper (__name) maps to nothing and is left alone
    assert.ok(out.code.includes('__name'));
    assert.deepEqual(
      r.skipped.map((s) => s.reason),
      ['unmapped'],
    );
    assert.ok(!r.frames.some((f) => f.name === '__name'));
  });
});
