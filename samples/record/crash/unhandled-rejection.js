'use strict';
// An unhandled rejection from an async function that awaited once: exit 1.
async function rejectsLater(what) {
  await null;
  throw new Error(`${what} failed`);
}

function main() {
  console.log('starting');
  rejectsLater('job');
}

main();
