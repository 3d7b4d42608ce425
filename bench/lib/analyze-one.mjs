// One analyser measurement in its own process; prints {mode, seconds, cpuSeconds, maxRssMB, ...} as JSON.
// Modes: read (reader alone), fold (viz flamegraph's folding), stats (viz stats), render (folded file -> SVG).
import { statSync } from 'node:fs';

const [mode, file, out] = process.argv.slice(2);
const size = statSync(file).size;
const t0 = performance.now();
const c0 = process.cpuUsage();
let detail = {};
if (mode === 'read') {
  const { openTrace } = await import('../../dist/src/ops/open.js');
  const { source } = await openTrace(file);
  let events = 0;
  for await (const batch of source.batches()) events += batch.length;
  detail = { events };
} else if (mode === 'fold') {
  const { foldTrace, foldedLines } = await import('../../dist/src/analyze/flamegraph/fold.js');
  const { tree } = await foldTrace(file, { progress: false });
  let lines = 0;
  for (const chunk of foldedLines(tree)) lines += chunk.split('\n').length - 1;
  detail = { stacks: lines };
} else if (mode === 'stats') {
  const { stats } = await import('../../dist/src/analyze/stats/index.js');
  const report = await stats(file, { progress: false });
  detail = { functions: report.functions };
} else if (mode === 'render') {
  const { flamegraph } = await import('../../dist/src/analyze/flamegraph/index.js');
  const r = await flamegraph(file, { output: out, progress: false });
  detail = { frames: r.items, outBytes: statSync(out).size };
} else {
  throw new Error(`unknown mode ${mode}`);
}
const seconds = (performance.now() - t0) / 1000;
const c = process.cpuUsage(c0);
const cpuSeconds = (c.user + c.system) / 1e6;
const maxRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ mode, seconds, cpuSeconds, size, maxRssMB, ...detail }));
