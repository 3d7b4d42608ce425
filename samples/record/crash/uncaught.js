'use strict';
// An uncaught exception three calls deep: exit 1.
function validate(x) {
  throwsHere(x);
}

function throwsHere(x) {
  throw new Error(`bad input: ${x}`);
}

function main() {
  console.log('validating');
  validate(42);
}

main();
