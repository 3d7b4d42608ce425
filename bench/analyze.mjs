#!/usr/bin/env node
// viz flamegraph / viz stats throughput, each against a baseline measured in the same run:
// - folding and stats on a >= 150 MB Chrome JSON trace vs the reader alone (bar: at most +20%),
// - rendering an SVG from a folded file of 1,000,000 lines vs flamegraph.pl (bar: under 1/10 of
//   its time). flamegraph.pl is measured when it is on PATH (FLAMEGRAPH_PL overrides); otherwise
//   the reference figure of 31,000-40,000 lines/s (25-32 s for 1M lines) on this machine class is used.
// Runs alternate (read, fold, stats) so load from other processes hits all of them alike.
// Usage: node bench/analyze.mjs [--repeats N]   (needs npm run build)
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateChromeTrace } from './gen-chrome.mjs';
import { median, runChild, table, verdict } from './lib/harness.mjs';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const one = here('./lib/analyze-one.mjs');
const ri = process.argv.indexOf('--repeats');
const repeats = ri > 0 ? Number(process.argv[ri + 1]) : 3;

const trace = await generateChromeTrace(160, here('../.bench/trace-160mb.json'));
const runs = { read: [], fold: [], stats: [] };
for (let i = 0; i < repeats; i++)
  for (const mode of ['read', 'fold', 'stats']) runs[mode].push(runChild(one, [mode, trace]));
const med = (mode, key) => median(runs[mode].map((r) => r[key]));
const rows = Object.keys(runs).map((mode) => ({
  pass: mode === 'read' ? 'read only' : mode,
  'wall s': med(mode, 'seconds').toFixed(2),
  'cpu s': med(mode, 'cpuSeconds').toFixed(2),
  'MB/s': (runs[mode][0].size / 1e6 / med(mode, 'seconds')).toFixed(1),
  'peak RSS MB': Math.round(med(mode, 'maxRssMB')),
}));
console.log(
  `\nAnalysers on a ${(runs.read[0].size / 1e6).toFixed(0)} MB Chrome trace (${runs.read[0].events.toLocaleString('en-US')} events), median of ${repeats}`,
);
console.log(table(rows, ['pass', 'wall s', 'cpu s', 'MB/s', 'peak RSS MB']));
const best = (mode) => Math.min(...runs[mode].map((r) => r.seconds));
for (const mode of ['fold', 'stats']) {
  const wall = med(mode, 'seconds') / med('read', 'seconds') - 1;
  const cpu = med(mode, 'cpuSeconds') / med('read', 'cpuSeconds') - 1;
  // The fastest runs, least disturbed by other load, shown beside the medians the verdict uses.
  const fastest = best(mode) / best('read') - 1;
  console.log(
    `${mode} over reading alone: +${(wall * 100).toFixed(0)}% wall, +${(cpu * 100).toFixed(0)}% cpu (fastest runs: +${(fastest * 100).toFixed(0)}%)  (bar <= +20%)  ${verdict(wall <= 0.2)}`,
  );
}

// 1M-line folded file: the distinct stacks of a random call tree (each leaf one line, as a
// profiler's collapse step writes them, depth-first), 2,000 function names, depth 4-16 (10 on average), about
// 250 bytes a line (deterministic).
const folded = here('../.bench/stacks-1m.folded');
if (!existsSync(folded)) {
  mkdirSync(here('../.bench'), { recursive: true });
  const ws = createWriteStream(folded + '.tmp');
  let seed = 42; // mulberry32
  const rand = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const names = Array.from(
    { length: 2000 },
    (_, i) =>
      `${['handle', 'parse', 'query', 'render', 'Map.get', 'Array.map'][i % 6]}_${i} (src/mod${i % 50}.js:${i})`,
  );
  let buf = [];
  let lines = 0;
  const stack = [];
  const flush = async () => {
    if (!ws.write(buf.join('\n') + '\n')) await new Promise((r) => ws.once('drain', r));
    buf = [];
  };
  const visit = async (depth) => {
    if (lines >= 1_000_000) return;
    stack.push(names[Math.floor(rand() * names.length)]);
    const leaf = depth >= 30 || (depth > 3 && rand() < (depth - 3) / 12);
    if (leaf || rand() < 0.1) {
      buf.push(`${stack.join(';')} ${1 + Math.floor(rand() * 1000)}`);
      lines++;
      if (buf.length === 10000) await flush();
    }
    if (!leaf) {
      const kids = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < kids; k++) await visit(depth + 1);
    }
    stack.pop();
  };
  while (lines < 1_000_000) await visit(0);
  await flush();
  ws.end();
  await new Promise((r) => ws.once('finish', r));
  renameSync(folded + '.tmp', folded);
}
const svgOut = here('../.bench/stacks-1m.svg');
const render = [];
for (let i = 0; i < repeats; i++) render.push(runChild(one, ['render', folded, svgOut]));
const renderS = median(render.map((r) => r.seconds));
console.log(
  `\nSVG from a 1,000,000-line folded file (${(statSync(folded).size / 1e6).toFixed(0)} MB): ${renderS.toFixed(2)} s wall, ${median(render.map((r) => r.cpuSeconds)).toFixed(2)} s cpu (${Math.round(1e6 / renderS).toLocaleString('en-US')} lines/s), ${render[0].frames.toLocaleString('en-US')} frames drawn, SVG ${(render[0].outBytes / 1e6).toFixed(1)} MB, peak RSS ${Math.round(median(render.map((r) => r.maxRssMB)))} MB`,
);
const pl =
  process.env.FLAMEGRAPH_PL ??
  (spawnSync('sh', ['-c', 'command -v flamegraph.pl || command -v flamegraph'], {
    encoding: 'utf8',
  }).stdout.trim() ||
    undefined);
let reference;
if (pl) {
  const t0 = performance.now();
  execFileSync('sh', ['-c', `"${pl}" "${folded}" > /dev/null`], { stdio: ['ignore', 'ignore', 'inherit'] });
  reference = (performance.now() - t0) / 1000;
  console.log(`flamegraph.pl (${pl}), same file, same run: ${reference.toFixed(1)} s`);
} else {
  reference = 25;
  console.log(
    'flamegraph.pl not installed (no Debian package): using the reference figure 25-32 s per 1M lines (31,000-40,000 lines/s), the fast end',
  );
}
console.log(
  `viz vs flamegraph.pl: ${(reference / renderS).toFixed(1)}x faster (bar >= 10x, i.e. < ${(reference / 10).toFixed(1)} s)  ${verdict(renderS < reference / 10)}`,
);
