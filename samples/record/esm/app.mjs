// ES module app importing another module.
import { Counter, tally } from './lib.mjs';

function run() {
  const counter = new Counter();
  for (const word of 'the quick brown fox jumps over the lazy dog the end'.split(' ')) counter.add(word);
  const top = tally(counter);
  console.log(`top: ${top.map(([w, n]) => `${w}=${n}`).join(' ')}`);
}

run();
