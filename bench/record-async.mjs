#!/usr/bin/env node
// viz record on an async-heavy workload, traced against untraced in the same run (npm run build
// first).
//
//   node bench/record-async.mjs [--runs N] [--tasks 100] [--iterations 1000]
//
// 100 concurrent tasks each await 1,000 times an async function that itself awaits another:
// 200,000 awaits in all (default sizes). Per iteration the trace gets the task's resumption
// (B/E), the middle function's call and resumption (2 x B/E) and its async span (b/e), and the
// leaf's call (B/E): 10 events. The program times its own work (CPU and wall) and prints it; the
// traced child is started exactly as `viz record` starts it (planChild: the preload in
// NODE_OPTIONS), with a ring large enough to keep every event. The fastest of N runs counts.
//
//   slow-down = traced work CPU time / untraced work CPU time
//   ns/event  = (traced - untraced work CPU time) / events recorded
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from './lib/harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { planChild } = await import(join(ROOT, 'dist/src/record/spawn.js'));
const { dumpStats } = await import(join(ROOT, 'dist/src/record/stats.js'));

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const RUNS = opt('runs', 5);
const TASKS = opt('tasks', 100);
const ITERATIONS = opt('iterations', 1000);

const work = mkdtempSync(join(tmpdir(), 'viz-bench-async-'));
const program = join(work, 'async-work.mjs');
writeFileSync(
  program,
  `
async function leaf(x) {
  return x + 1;
}
async function middle(x) {
  const v = await leaf(x);
  return v * 2;
}
async function task(id, n) {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await middle(i + id);
  return sum;
}
const [tasks, n] = process.argv.slice(2).map(Number);
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const sums = await Promise.all(Array.from({ length: tasks }, (_, id) => task(id, n)));
const wallNs = Number(process.hrtime.bigint() - t0);
const cpu = process.cpuUsage(cpu0);
const check = sums.reduce((a, b) => a + b, 0);
console.log(JSON.stringify({ cpuNs: (cpu.user + cpu.system) * 1000, wallNs, check }));
`,
);

function runOnce(traced) {
  const outDir = mkdtempSync(join(work, 'out-'));
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  let file = process.execPath;
  let args = [program, String(TASKS), String(ITERATIONS)];
  let childEnv = env;
  if (traced) {
    const plan = planChild({
      argv: [program, String(TASKS), String(ITERATIONS)],
      command: false,
      outDir,
      bufferSize: 1 << 23,
      cacheDir: join(work, 'cache'),
      env,
      cwd: work,
    });
    ({ file, args } = plan);
    childEnv = plan.env;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: childEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', async (code) => {
      if (code !== 0) return reject(new Error(`workload exited ${code}`));
      const result = JSON.parse(out.trim().split('\n').at(-1));
      if (traced) {
        const dump = readdirSync(outDir).find((n) => /^\d+\.vizdump$/.test(n));
        result.events = (await dumpStats(join(outDir, dump))).kept;
      }
      rmSync(outDir, { recursive: true, force: true });
      resolve(result);
    });
  });
}

await runOnce(true); // warm the instrumentation cache
const plain = [];
const traced = [];
for (let i = 0; i < RUNS; i++) {
  plain.push(await runOnce(false));
  traced.push(await runOnce(true));
}
const best = (runs) => runs.reduce((a, b) => (b.cpuNs < a.cpuNs ? b : a));
const p = best(plain);
const t = best(traced);
if (p.check !== t.check) throw new Error(`results differ: ${p.check} vs ${t.check}`);
const awaits = TASKS * ITERATIONS * 2;
const ms = (ns) => (ns / 1e6).toFixed(1);
console.log(
  `viz record, async workload: ${TASKS} tasks x ${ITERATIONS} iterations = ${awaits.toLocaleString('en-US')} awaits; best of ${RUNS}\n`,
);
console.log(
  table(
    [
      { run: 'untraced', 'CPU ms': ms(p.cpuNs), 'wall ms': ms(p.wallNs), events: '' },
      {
        run: 'traced',
        'CPU ms': ms(t.cpuNs),
        'wall ms': ms(t.wallNs),
        events: t.events.toLocaleString('en-US'),
      },
    ],
    ['run', 'CPU ms', 'wall ms', 'events'],
  ),
);
console.log(
  `\nslow-down ${(t.cpuNs / p.cpuNs).toFixed(2)}x (CPU), ${(t.wallNs / p.wallNs).toFixed(2)}x (wall); ` +
    `${((t.cpuNs - p.cpuNs) / t.events).toFixed(1)} ns per event (${(t.events / awaits).toFixed(1)} events per await)`,
);
rmSync(work, { recursive: true, force: true });
