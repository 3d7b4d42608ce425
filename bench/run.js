#!/usr/bin/env node
// `npm run bench`: every benchmark in turn, each printing its own table with ratios against a
// baseline measured in the same run. `--only NAME` runs one; the 2 GB limits run is separate
// (`node bench/limits.mjs`), it takes many minutes.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches = [
  ['chrome-reader', []],
  ['record-hotpath', []],
  ['record-workloads', []],
  ['record-async', []],
  ['transform', []],
  ['perfetto', []],
  ['analyze', []],
];
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
let failed = 0;
for (const [name, extra] of benches) {
  if (only && name !== only) continue;
  console.log(`\n===== bench/${name}.mjs =====`);
  const r = spawnSync(
    process.execPath,
    [fileURLToPath(new URL(`./${name}.mjs`, import.meta.url)), ...extra],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
