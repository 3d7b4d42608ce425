'use strict';
// process.abort() two calls deep: SIGABRT, no exit listeners.
function abortHere() {
  console.log('aborting');
  process.abort();
}

function main() {
  abortHere();
}

main();
