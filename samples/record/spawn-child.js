'use strict';
// Starts a child Node.js process (fib.js 10) and reports its output and exit code.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

function runChild(n) {
  const r = spawnSync(process.execPath, [join(__dirname, 'fib.js'), String(n)], { encoding: 'utf8' });
  return `${r.stdout.trim()} (exit ${r.status})`;
}

console.log(`child said: ${runChild(10)}`);
