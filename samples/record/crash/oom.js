'use strict';
// Grows an array until V8 runs out of heap (run with node --max-old-space-size=32): V8 prints
// "FATAL ERROR: ... JavaScript heap out of memory" and aborts (SIGABRT).
function growForever(keep) {
  for (let i = 0; ; i++) keep.push({ i, text: `item ${i}` });
}

function main() {
  console.log('growing');
  growForever([]);
}

main();
