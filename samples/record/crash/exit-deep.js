'use strict';
// process.exit(3) five calls deep: the frames between main and exitDeep never return.
function descend(depth) {
  if (depth === 0) return exitDeep();
  return descend(depth - 1);
}

function exitDeep() {
  console.log('exiting from deep down');
  process.exit(3);
}

function main() {
  descend(5);
}

main();
