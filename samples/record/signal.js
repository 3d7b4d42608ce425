'use strict';
// Dies by a signal: `node signal.js SIGTERM` kills itself after some work.
function spin(n) {
  let acc = 0;
  for (let i = 0; i < n; i++) acc = (acc + i * i) % 1000003;
  return acc;
}

function main(sig) {
  console.log(`work: ${spin(1000)}`);
  process.kill(process.pid, sig);
  setTimeout(() => console.log('still alive'), 5000);
}

main(process.argv[2] ?? 'SIGTERM');
