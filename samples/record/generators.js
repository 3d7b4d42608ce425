'use strict';
// Generators: a lazy pipeline of generator functions and a delegating generator.
function* naturals(limit) {
  for (let i = 1; i <= limit; i++) yield i;
}

function* filter(iter, pred) {
  for (const x of iter) if (pred(x)) yield x;
}

function* map(iter, fn) {
  for (const x of iter) yield fn(x);
}

function* concat(...iters) {
  for (const it of iters) yield* it;
}

function isOdd(x) {
  return x % 2 === 1;
}

function square(x) {
  return x * x;
}

function main() {
  const squares = [...map(filter(naturals(10), isOdd), square)];
  console.log(`odd squares: ${squares.join(' ')}`);
  const joined = [...concat(naturals(3), naturals(2))];
  console.log(`concat: ${joined.join(' ')}`);
}

main();
