'use strict';
// A native crash, as a crashing addon would give: SIGSEGV sent to itself from inside a call.
function crashHere() {
  console.log('crashing');
  process.kill(process.pid, 'SIGSEGV');
}

function main() {
  crashHere();
  setTimeout(() => console.log('still alive'), 5000);
}

main();
