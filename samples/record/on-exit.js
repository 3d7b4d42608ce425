'use strict';
// Work done in the program's own 'exit' listener is recorded too.
function summarise(items) {
  return `${items.length} items, total ${items.reduce((a, b) => a + b, 0)}`;
}

const items = [];
function collect(n) {
  for (let i = 1; i <= n; i++) items.push(i * i);
}

process.on('exit', (code) => {
  console.log(`exit ${code}: ${summarise(items)}`);
});

collect(5);
process.exitCode = 4;
