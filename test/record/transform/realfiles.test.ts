import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { parse } from 'acorn';
import { instrument, stripInstrumentation } from '../../../src/record/transform/index.js';
import { evalScript, LOG_ALL } from './helpers.js';

const require = createRequire(import.meta.url);

/** Counts events and checks they pair up: depth must come back to zero. */
function countingRuntime(): { rt: object; stats: { events: number; depth: number; minDepth: number } } {
  const stats = { events: 0, depth: 0, minDepth: 0 };
  const rt = {
    reg: () => 0,
    e: () => {
      stats.events++;
      stats.depth++;
    },
    x: () => {
      stats.events++;
      stats.depth--;
      if (stats.depth < stats.minDepth) stats.minDepth = stats.depth;
    },
  };
  return { rt, stats };
}

/** Loads CommonJS source text as a module. */
function loadCjs(code: string, rt: object | undefined): Record<string, unknown> {
  const module = { exports: {} as Record<string, unknown> };
  evalScript(code, rt, { module, exports: module.exports, require, __filename: 'x.js', __dirname: '.' });
  return module.exports;
}

describe('record/transform: large real files', function () {
  this.timeout(120000);

  it("acorn's own dist: the instrumented copy parses exactly like the original", () => {
    const file = require.resolve('acorn'); /* dist/acorn.js */
    const src = fs.readFileSync(file, 'utf8');
    const r = instrument(src, { filename: file, sourceType: 'script' });
    assert.ok(r.frames.length > 300, `${r.frames.length} frames`);
    assert.equal(stripInstrumentation(r.code), src);
    const { rt, stats } = countingRuntime();
    const orig = loadCjs(src, undefined) as unknown as typeof import('acorn');
    const inst = loadCjs(r.code, rt) as unknown as typeof import('acorn');
    const input = fs.readFileSync(require.resolve('magic-string'), 'utf8');
    const opts = { ecmaVersion: 'latest', sourceType: 'module', locations: true } as const;
    const a = JSON.stringify(orig.parse(input, opts));
    const b = JSON.stringify(inst.parse(input, opts));
    assert.equal(b, a);
    assert.ok(stats.events > 10000, `${stats.events} events`);
    assert.equal(stats.depth, 0);
    assert.equal(stats.minDepth, 0);
  });

  it('typescript.js (~9 MB): instruments, loads and transpiles like the original', () => {
    const file = require.resolve('typescript');
    const src = fs.readFileSync(file, 'utf8');
    const r = instrument(src, { filename: file, sourceType: 'script' });
    assert.ok(r.frames.length > 10000, `${r.frames.length} frames`);
    assert.equal(r.code.split('\n').length, src.split('\n').length);
    assert.equal(stripInstrumentation(r.code), src);
    const { rt, stats } = countingRuntime();
    type TS = typeof import('typescript');
    const orig = require('typescript') as TS;
    const inst = loadCjs(r.code, rt) as unknown as TS;
    const input =
      'enum E { A, B }\nexport class K<T> { constructor(private t: T) {} async *m(): AsyncGenerator<T> { yield this.t } }\nlet x: number = E.B;\n';
    const options = {
      compilerOptions: { target: orig.ScriptTarget.ES2017, module: orig.ModuleKind.CommonJS },
    };
    const a = orig.transpileModule(input, options).outputText;
    const b = inst.transpileModule(input, options).outputText;
    assert.equal(b, a);
    assert.ok(stats.events > 1000, `${stats.events} events`);
    assert.equal(stats.depth, 0);
  });

  it('every file of eslint/lib and mocha/lib: output re-parses, keeps its lines and strips back exactly', () => {
    const roots = [
      path.dirname(require.resolve('eslint/package.json')),
      path.dirname(require.resolve('mocha/package.json')),
    ];
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (/\.(c|m)?js$/.test(e.name)) files.push(p);
      }
    };
    for (const r of roots) walk(path.join(r, 'lib'));
    assert.ok(files.length > 300, `${files.length} files`);
    let frames = 0;
    for (const file of files) {
      const src = fs.readFileSync(file, 'utf8');
      // .js files may be ES modules: take the kind that parses
      let sourceType: 'script' | 'module' = file.endsWith('.mjs') ? 'module' : 'script';
      let r;
      try {
        r = instrument(src, { filename: file, sourceType });
      } catch {
        sourceType = 'module';
        r = instrument(src, { filename: file, sourceType });
      }
      frames += r.frames.length;
      parse(r.code, {
        ecmaVersion: 'latest',
        sourceType,
        allowHashBang: true,
        allowReturnOutsideFunction: sourceType === 'script',
      });
      assert.equal(r.code.split('\n').length, src.split('\n').length, file);
      assert.equal(stripInstrumentation(r.code), src, file);
      // the same with every value-logging option on
      const l = instrument(src, { filename: file, sourceType, log: LOG_ALL });
      parse(l.code, {
        ecmaVersion: 'latest',
        sourceType,
        allowHashBang: true,
        allowReturnOutsideFunction: sourceType === 'script',
      });
      assert.equal(l.code.split('\n').length, src.split('\n').length, file);
      assert.equal(stripInstrumentation(l.code), src, file);
    }
    assert.ok(frames > 4000, `${frames} frames`);
  });
});
