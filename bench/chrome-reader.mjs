#!/usr/bin/env node
// Chrome JSON reader throughput: viz's reader against whole-file JSON.parse and a plain
// stream-json pick + streamArray pipeline, on the same generated file in the same run.
// Bars: >= 2x JSON.parse, >= 10x stream-json, peak RSS < 256 MB on a 1 GB input.
// Usage: node bench/chrome-reader.mjs [--quick] (quick: skips the 1 GB run)
import { fileURLToPath } from 'node:url';
import { generateChromeTrace } from './gen-chrome.mjs';
import { median, runChild, table, verdict } from './lib/harness.mjs';

const quick = process.argv.includes('--quick');
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const readOne = here('./lib/read-one.mjs');
const file = await generateChromeTrace(160, here('../.bench/trace-160mb.json'));

const repeats = 3;
const results = { viz: [], 'json-parse': [], 'stream-json': [] };
for (let i = 0; i < repeats; i++) {
  for (const mode of ['viz', 'json-parse']) results[mode].push(runChild(readOne, [mode, file]));
}
results['stream-json'].push(runChild(readOne, ['stream-json', file])); // slow: once

const rows = Object.entries(results).map(([mode, runs]) => {
  const secs = median(runs.map((r) => r.seconds));
  const r = runs[0];
  return {
    reader: mode,
    'MB/s': (r.size / 1e6 / secs).toFixed(1),
    'events/s': Math.round(r.events / secs).toLocaleString('en-US'),
    seconds: secs.toFixed(2),
    'peak RSS MB': Math.round(median(runs.map((x) => x.maxRssMB))),
    events: r.events,
  };
});
const t = (m) => median(results[m].map((r) => r.seconds));
const vsParse = t('json-parse') / t('viz');
const vsStream = t('stream-json') / t('viz');
console.log(
  `\nChrome JSON reader, ${(results.viz[0].size / 1e6).toFixed(0)} MB file, median of ${repeats} (stream-json once)`,
);
console.log(table(rows, ['reader', 'MB/s', 'events/s', 'seconds', 'peak RSS MB', 'events']));
console.log(`viz vs JSON.parse:  ${vsParse.toFixed(2)}x  (bar >= 2x)   ${verdict(vsParse >= 2)}`);
console.log(`viz vs stream-json: ${vsStream.toFixed(2)}x  (bar >= 10x)  ${verdict(vsStream >= 10)}`);

if (!quick) {
  const big = await generateChromeTrace(1024, here('../.bench/trace-1024mb.json'));
  const r = runChild(readOne, ['viz', big]);
  console.log(
    `1 GB input: ${r.events.toLocaleString('en-US')} events in ${r.seconds.toFixed(1)} s, peak RSS ${Math.round(r.maxRssMB)} MB (bar < 256 MB)  ${verdict(r.maxRssMB < 256)}`,
  );
}
