'use strict';
// Sends itself a signal (`node self-signal.js SIGHUP`) from inside a call and waits to die by it.
function killSelf(sig) {
  console.log(`sending ${sig}`);
  process.kill(process.pid, sig);
}

function main(sig) {
  killSelf(sig);
  setTimeout(() => console.log('still alive'), 5000);
}

main(process.argv[2] ?? 'SIGTERM');
