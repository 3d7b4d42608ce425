'use strict';
// Ends normally: the last function entered is finishLine, and every frame is closed.
function work(n) {
  let acc = 0;
  for (let i = 0; i < n; i++) acc = (acc * 31 + i) % 1000003;
  return acc;
}

function finishLine(acc) {
  console.log(`done: ${acc}`);
}

function main() {
  finishLine(work(1000));
}

main();
