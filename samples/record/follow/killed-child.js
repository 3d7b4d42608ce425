'use strict';
// The child Node.js process kills itself with SIGKILL: nothing runs after it, so it writes no dump.
const { spawnSync } = require('node:child_process');

function work(n) {
  return n < 2 ? n : work(n - 1) + work(n - 2);
}

if (process.argv[2] === 'child') {
  work(10);
  process.kill(process.pid, 'SIGKILL');
} else {
  const r = spawnSync(process.execPath, [__filename, 'child']);
  console.log(`child ended by ${r.signal}; parent: ${work(8)}`);
}
