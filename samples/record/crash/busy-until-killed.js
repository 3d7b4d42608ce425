'use strict';
// Signals a process may not get from itself (SIGKILL): prints "ready" and spins in a loop of calls
// until it is killed from outside; tickUntilKilled is the last function it keeps entering.
function tickUntilKilled(i) {
  return (i * 31 + 7) % 1000003;
}

function main() {
  console.log(`ready ${process.pid}`);
  let acc = 0;
  for (let i = 0; ; i++) acc = tickUntilKilled(acc + i);
}

main();
