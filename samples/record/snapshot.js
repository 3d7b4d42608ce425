'use strict';
// Asks for a snapshot dump (SIGUSR2) half-way through, handles the signal itself and goes on: `viz record` keeps both the
// snapshot (`<output>.1.vizdump`) and the final dump.
function phase(name, n) {
  let acc = 0;
  for (let i = 0; i < n; i++) acc = step(acc, i);
  console.log(`${name}: ${acc}`);
}

function step(acc, i) {
  return (acc * 31 + i) % 1000003;
}

process.on('SIGUSR2', () => console.log('got SIGUSR2'));
phase('first', 100);
process.kill(process.pid, 'SIGUSR2');
setTimeout(() => phase('second', 50), 50);
