#!/usr/bin/env node
// viz record's source transform, measured against baselines in the same run:
//  1. throughput (MB/s) of instrument() against acorn.parse alone, on large real files;
//  2. cost added per enter/exit event by the generated code, with a fake runtime made of
//     plain JS functions writing to a ring (bar: <= 20 ns per event), for the shape we
//     emit (module-level cached `__vze(__vzb+K)`) and for `__vzr.e(__vzb+K)`.
// Usage: npm run build && node bench/transform.mjs [--quick]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parse } from 'acorn';
import { median, table, verdict } from './lib/harness.mjs';

const { instrument } = await import('../dist/src/record/transform/index.js');
const require = createRequire(import.meta.url);
const quick = process.argv.includes('--quick');

// ---- 1. transform throughput -------------------------------------------------------
const files = [require.resolve('acorn'), require.resolve('typescript')];
const rows = [];
for (const file of files) {
  const src = readFileSync(file, 'utf8');
  const mb = Buffer.byteLength(src) / 1e6;
  const reps = quick ? 1 : 3;
  const parseT = [];
  const instT = [];
  let out;
  for (let i = 0; i < reps; i++) {
    let t = performance.now();
    parse(src, {
      ecmaVersion: 'latest',
      sourceType: 'script',
      allowHashBang: true,
      allowReturnOutsideFunction: true,
    });
    parseT.push((performance.now() - t) / 1000);
    t = performance.now();
    out = instrument(src, { filename: file, sourceType: 'script' });
    instT.push((performance.now() - t) / 1000);
  }
  const p = median(parseT);
  const s = median(instT);
  rows.push({
    file: file.split('node_modules/')[1],
    MB: mb.toFixed(2),
    frames: out.frames.length,
    'acorn.parse MB/s': (mb / p).toFixed(1),
    'instrument MB/s': (mb / s).toFixed(1),
    'instrument / parse': (s / p).toFixed(2) + 'x',
    'code growth': ((out.code.length / src.length - 1) * 100).toFixed(0) + '%',
    'map MB': (JSON.stringify(out.map).length / 1e6).toFixed(1),
  });
}
console.log('Transform throughput (same run, median of runs)');
console.log(table(rows, Object.keys(rows[0])));

// ---- 2. per-event cost --------------------------------------------------------------
const N = quick ? 5e6 : 3e7;
const program = `
function leaf(x) { return x + 1 }
function loop(n) { let s = 0; for (let i = 0; i < n; i++) s = leaf(s) & 0xffff; return s }
return loop;
`;
function fakeRuntime() {
  const ring = new Int32Array(1 << 16);
  let i = 0;
  return {
    reg: () => 0,
    e: (id) => {
      ring[(i = (i + 1) & 0xffff)] = id;
    },
    x: (id) => {
      ring[(i = (i + 1) & 0xffff)] = -id;
    },
  };
}
function timeLoop(code) {
  globalThis.__viz_rt = fakeRuntime();
  const loop = new Function(code)();
  delete globalThis.__viz_rt;
  loop(1e5); // warm up
  const runs = [];
  for (let r = 0; r < (quick ? 3 : 5); r++) {
    const t = process.hrtime.bigint();
    loop(N);
    runs.push(Number(process.hrtime.bigint() - t));
  }
  return median(runs);
}
const inst = instrument(program, { filename: 'bench.js', sourceType: 'script' }).code;
const viaProperty = inst.replace(/__vze\(__vzb/g, '__vzr.e(__vzb').replace(/__vzx\(__vzb/g, '__vzr.x(__vzb');
const base = timeLoop(program);
const variants = [
  ['cached __vze/__vzx (emitted)', inst],
  ['__vzr.e/__vzr.x', viaProperty],
];
const evRows = [
  { variant: 'not instrumented (baseline)', 'ns/call': (base / N).toFixed(2), 'added ns/event': '-' },
];
let emittedCost = Infinity;
for (const [name, code] of variants) {
  const t = timeLoop(code);
  // leaf and loop: 2 events per leaf call (loop's own 2 are negligible)
  const added = (t - base) / N / 2;
  if (name.startsWith('cached')) emittedCost = added;
  evRows.push({ variant: name, 'ns/call': (t / N).toFixed(2), 'added ns/event': added.toFixed(2) });
}
console.log(
  `\nPer-event cost (${N.toLocaleString('en-US')} calls of a leaf function, fake runtime writing a ring)`,
);
console.log(table(evRows, Object.keys(evRows[0])));
console.log(
  verdict(emittedCost <= 20) + ` added cost per event ${emittedCost.toFixed(2)} ns (bar: <= 20 ns)`,
);
