#!/usr/bin/env node
// viz record on four workloads, traced against untraced in the same run (npm run build first).
//
//   node bench/record-workloads.mjs [--runs N] [--only fib,classes,acorn,typescript]
//
// Each workload is a small program written to a temp directory (outside viz's own tree, so
// everything it loads, acorn and typescript included, is instrumented). It times its own work
// and prints when it finished; the benchmark times the process from spawn to exit. Per workload:
//
//   slow-down  = traced work CPU time / untraced work CPU time         bar <= 2.0x (realistic)
//   ns/event   = (traced - untraced work CPU time) / events recorded    bar <= 20 ns (micro)
//
// CPU time (process.cpuUsage around the work) decides because the machine may be shared: other
// processes stretch wall time, not CPU time. Wall time is shown beside it.
//
// Micro workloads (fib, classes) run 5 times in the process and the fastest run counts; the
// realistic ones (acorn, typescript) run once, cold JIT included.
//   dump share = (traced exit tail - untraced exit tail) / traced run   bar <= 25 %
//
// Value logging (fib, classes): the same workload also runs traced with `--log-args --log-return`
// (every argument and return value rendered into the trace, render.ts limits), and a second table
// shows what that adds:
//   log ns/call = (logged - traced work CPU time) / calls per run   (calls = traced events / 2)
//   slow-down   = logged work CPU time / untraced, beside traced / untraced
//
// The traced child is started exactly as `viz record` starts it (planChild: the preload in
// NODE_OPTIONS); the CLI's own start-up is reported once at the end. The instrumentation cache
// is warmed by one traced run per workload first (that cold run is reported separately).
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, table, verdict } from './lib/harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { planChild } = await import(join(ROOT, 'dist/src/record/spawn.js'));
const { dumpStats } = await import(join(ROOT, 'dist/src/record/stats.js'));

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const RUNS = Number(opt('runs', 5));
const ONLY = opt('only', 'fib,classes,acorn,typescript').split(',');

const work = mkdtempSync(join(tmpdir(), 'viz-bench-record-'));
const cacheDir = join(work, 'cache');

// ---- inputs ------------------------------------------------------------------------------------

copyFileSync(join(ROOT, 'node_modules/acorn/dist/acorn.mjs'), join(work, 'acorn-lib.mjs'));
copyFileSync(join(ROOT, 'node_modules/typescript/lib/typescript.js'), join(work, 'typescript.cjs'));

/** >= 1.2 MB of real JavaScript: whole files from node_modules, in a fixed order. */
function jsCorpus(minBytes) {
  const files = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (/\.(c?js|mjs)$/.test(name) && st.size > 20000 && st.size < 400000) files.push(p);
    }
  };
  for (const pkg of [
    'acorn',
    'magic-string',
    '@jridgewell',
    'mocha',
    'eslint',
    'ajv',
    'esquery',
    'fast-check',
  ]) {
    try {
      walk(join(ROOT, 'node_modules', pkg));
    } catch {
      // package not installed: the corpus comes from the others
    }
  }
  const out = [];
  let bytes = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    out.push({ name: relative(ROOT, f), text });
    bytes += Buffer.byteLength(text);
    if (bytes >= minBytes) break;
  }
  return { files: out, bytes };
}
const corpus = jsCorpus(1.2e6);
writeFileSync(join(work, 'corpus.json'), JSON.stringify(corpus.files));

/** One large TypeScript file: viz's own sources, concatenated. */
function tsInput() {
  const parts = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts'))
        parts.push(`// ${relative(ROOT, p)}\n${readFileSync(p, 'utf8')}`);
    }
  };
  walk(join(ROOT, 'src'));
  return parts.join('\n');
}
const tsSource = tsInput();
writeFileSync(join(work, 'input.ts'), tsSource);

// ---- workload programs -------------------------------------------------------------------------

const FINISH = `
const __end = performance.timeOrigin + performance.now();
console.log(JSON.stringify({ workMs: __best, cpuMs: __bestCpu, iterations: __iterations, endAt: __end, check: String(__check) }));
`;
const cpuMs = (c0) => `((c) => (c.user + c.system) / 1000)(process.cpuUsage(${c0}))`;
/** Micro workloads run 5 times in the process; the fastest run counts (steady state, JIT warm). */
const repeat = (body, result) => `
let __best = Infinity;
let __bestCpu = Infinity;
let __check;
const __iterations = 5;
for (let __i = 0; __i < __iterations; __i++) {
  const __c0 = process.cpuUsage();
  const __t0 = performance.now();
  ${body}
  __best = Math.min(__best, performance.now() - __t0);
  __bestCpu = Math.min(__bestCpu, ${cpuMs('__c0')});
  __check = ${result};
}`;
/** Realistic workloads run once. */
const once = (body, result) => `
const __iterations = 1;
const __c0 = process.cpuUsage();
const __t0 = performance.now();
${body}
const __best = performance.now() - __t0;
const __bestCpu = ${cpuMs('__c0')};
const __check = ${result};`;

const programs = {
  fib: `
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
${repeat('const r = fib(27);', 'r')}
${FINISH}`,

  classes: `
class Vec {
  #x; #y;
  constructor(x, y) { this.#x = x; this.#y = y; }
  get x() { return this.#x; }
  get y() { return this.#y; }
  add(o) { return new Vec(this.#x + o.x, this.#y + o.y); }
  scale(k) { return new Vec(this.#x * k, this.#y * k); }
  dot(o) { return this.#x * o.x + this.#y * o.y; }
}
class Body {
  constructor(p, v) { this.p = p; this.v = v; }
  step(dt) { this.p = this.p.add(this.v.scale(dt)); }
  energy() { return 0.5 * this.v.dot(this.v); }
}
class Damped extends Body {
  static FACTOR;
  static { Damped.FACTOR = 0.999; }
  step(dt) { super.step(dt); this.v = this.v.scale(Damped.FACTOR); }
}
function simulate() {
  const bodies = [];
  for (let i = 0; i < 100; i++) bodies.push(i % 2 ? new Body(new Vec(i, 0), new Vec(0, 1)) : new Damped(new Vec(0, i), new Vec(1, 0)));
  let e = 0;
  for (let t = 0; t < 1000; t++) for (const b of bodies) { b.step(0.01); e += b.energy(); }
  return e;
}
${repeat('const e = simulate();', 'e.toFixed(3)')}
${FINISH}`,

  acorn: `
import { readFileSync } from 'node:fs';
import { parse } from './acorn-lib.mjs';
const files = JSON.parse(readFileSync(new URL('./corpus.json', import.meta.url), 'utf8'));
let nodes = 0;
${once(
  `for (const f of files) {
  let ast;
  try { ast = parse(f.text, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true }); }
  catch { ast = parse(f.text, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true, allowReturnOutsideFunction: true }); }
  nodes += ast.body.length;
}`,
  'nodes',
)}
${FINISH}`,

  typescript: `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const ts = createRequire(import.meta.url)('./typescript.cjs');
const source = readFileSync(new URL('./input.ts', import.meta.url), 'utf8');
let out;
${once(`out = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext }, reportDiagnostics: false });`, 'out.outputText.length')}
${FINISH}`,
};
for (const [name, text] of Object.entries(programs)) writeFileSync(join(work, `${name}.mjs`), text);

// ---- running -----------------------------------------------------------------------------------

const now = () => performance.timeOrigin + performance.now();

function run(file, args, env) {
  return new Promise((resolve, reject) => {
    const startAt = now();
    const child = spawn(file, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const exitAt = now();
      if (code !== 0) return reject(new Error(`${args.join(' ')}: exit ${code}\n${err}`));
      const r = JSON.parse(out.trim().split('\n').at(-1));
      resolve({ ...r, wallMs: exitAt - startAt, tailMs: exitAt - r.endAt, stderr: err });
    });
  });
}

let seq = 0;
/** `log`: the `--log-*` kinds, e.g. ['args', 'return'] for `--log-args --log-return`. */
async function traced(name, log) {
  const outDir = mkdtempSync(join(work, `out-${seq++}-`));
  const plan = planChild({ argv: [`${name}.mjs`], command: false, outDir, cacheDir, cwd: work, log });
  const r = await run(plan.file, plan.args, { ...plan.env, VIZ_DEBUG: '1' });
  const backend = /: ([\w-]+) recorder, /.exec(r.stderr)?.[1] ?? '?';
  const dump = readdirSync(outDir).find((f) => /^\d+\.vizdump$/.test(f));
  if (!dump) throw new Error(`${name}: no dump\n${r.stderr}`);
  const stats = await dumpStats(join(outDir, dump));
  rmSync(outDir, { recursive: true, force: true });
  return { ...r, events: stats.kept + stats.overwritten, kept: stats.kept, backend };
}

function plain(name) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return run(process.execPath, [`${name}.mjs`], env);
}

const MICRO = new Set(['fib', 'classes']);
const LOG = ['args', 'return'];
const rows = [];
const logRows = [];
let allOk = true;
process.stderr.write(
  `inputs: acorn corpus ${(corpus.bytes / 1e6).toFixed(2)} MB in ${corpus.files.length} files; ` +
    `transpileModule input ${(Buffer.byteLength(tsSource) / 1e6).toFixed(2)} MB; ${RUNS} runs each\n`,
);
for (const name of ONLY) {
  const cold = await traced(name); // fills the instrumentation cache
  const logging = MICRO.has(name);
  if (logging) await traced(name, LOG); // the logging transform is cached apart
  const p = [];
  const t = [];
  const l = [];
  for (let i = 0; i < RUNS; i++) {
    p.push(await plain(name));
    t.push(await traced(name));
    if (logging) l.push(await traced(name, LOG));
  }
  if (p[0].check !== t[0].check)
    throw new Error(`${name}: traced result ${t[0].check} != untraced ${p[0].check}`);
  if (logging && p[0].check !== l[0].check)
    throw new Error(`${name}: traced with logging result ${l[0].check} != untraced ${p[0].check}`);
  // CPU time of the work decides (other processes on the machine stretch wall time, not CPU
  // time); wall time is shown beside it.
  const pw = median(p.map((r) => r.cpuMs));
  const tw = median(t.map((r) => r.cpuMs));
  const pwWall = median(p.map((r) => r.workMs));
  const twWall = median(t.map((r) => r.workMs));
  const events = t[0].events;
  const perRun = events / t[0].iterations;
  const nsPerEvent = ((tw - pw) * 1e6) / perRun;
  const slowdown = tw / pw;
  const dumpShare =
    (median(t.map((r) => r.tailMs)) - median(p.map((r) => r.tailMs))) / median(t.map((r) => r.wallMs));
  const okWork = MICRO.has(name) ? nsPerEvent <= 20 : slowdown <= 2.0;
  const okDump = dumpShare <= 0.25;
  allOk &&= okWork && okDump;
  rows.push({
    workload: name,
    recorder: [...new Set(t.map((r) => r.backend))].join(','),
    'events/run': Math.round(perRun).toLocaleString('en-US'),
    'cpu ms (untraced/traced)': `${pw.toFixed(1)} / ${tw.toFixed(1)}`,
    'slow-down': `${slowdown.toFixed(2)}x`,
    'wall ms, slow-down': `${pwWall.toFixed(1)} / ${twWall.toFixed(1)}, ${(twWall / pwWall).toFixed(2)}x`,
    'ns/event': nsPerEvent.toFixed(1),
    bar: MICRO.has(name) ? `<=20 ns ${verdict(okWork)}` : `<=2.0x ${verdict(okWork)}`,
    'exit tail ms (untraced/traced)': `${median(p.map((r) => r.tailMs)).toFixed(1)} / ${median(t.map((r) => r.tailMs)).toFixed(1)}`,
    'dump share': `${(dumpShare * 100).toFixed(1)}% ${verdict(okDump)}`,
    'wall ms (untraced/traced/cold)': `${median(p.map((r) => r.wallMs)).toFixed(0)} / ${median(t.map((r) => r.wallMs)).toFixed(0)} / ${cold.wallMs.toFixed(0)}`,
  });
  if (logging) {
    const lw = median(l.map((r) => r.cpuMs));
    const lwWall = median(l.map((r) => r.workMs));
    const calls = perRun / 2;
    logRows.push({
      workload: name,
      recorder: [...new Set(l.map((r) => r.backend))].join(','),
      'calls/run': Math.round(calls).toLocaleString('en-US'),
      'cpu ms (untraced/traced/logged)': `${pw.toFixed(1)} / ${tw.toFixed(1)} / ${lw.toFixed(1)}`,
      'slow-down (traced, logged)': `${slowdown.toFixed(2)}x, ${(lw / pw).toFixed(2)}x`,
      'log ns/call': (((lw - tw) * 1e6) / calls).toFixed(1),
      'wall ms (untraced/traced/logged)': `${pwWall.toFixed(1)} / ${twWall.toFixed(1)} / ${lwWall.toFixed(1)}`,
      'wall log ns/call': (((lwWall - twWall) * 1e6) / calls).toFixed(1),
    });
  }
}
console.log(table(rows, Object.keys(rows[0])));
if (logRows.length > 0) {
  console.log(`\nvalue logging (--log-args --log-return) over plain tracing:`);
  console.log(table(logRows, Object.keys(logRows[0])));
}

// The CLI around it: oclif start-up, spawning, reading the dump back for the summary.
{
  const out = join(work, 'cli.vizdump');
  const env = { ...process.env, VIZ_CACHE_DIR: cacheDir };
  delete env.NODE_OPTIONS;
  const t0 = now();
  await new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [join(ROOT, 'bin/run.js'), 'record', '-o', out, 'fib.mjs'], {
      cwd: work,
      env,
      stdio: 'ignore',
    });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`viz record exit ${code}`))));
  });
  const cliMs = now() - t0;
  const fibRow = rows.find((r) => r.workload === 'fib');
  console.log(
    `\nviz record -o x.vizdump fib.mjs (whole CLI): ${cliMs.toFixed(0)} ms` +
      (fibRow
        ? ` (the traced process alone: ${fibRow['wall ms (untraced/traced/cold)'].split(' / ')[1]} ms)`
        : ''),
  );
}
console.log(`\n${allOk ? 'all bars met' : 'SOME BARS MISSED'}`);
rmSync(work, { recursive: true, force: true });
