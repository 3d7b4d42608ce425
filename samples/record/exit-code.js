'use strict';
// Exits through process.exit(code) from inside a call: `node exit-code.js 7` exits with 7.
function finish(code) {
  console.log(`exiting with ${code}`);
  process.exit(code);
}

function work(code) {
  finish(code);
  console.log('not reached');
}

work(Number(process.argv[2] ?? 3));
