'use strict';
// Recursive Fibonacci: `node fib.js 20` makes 21,891 calls of fib (2 * F(21) - 1).
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function main(argv) {
  const n = Number(argv[2] ?? 20);
  console.log(`fib(${n}) = ${fib(n)}`);
}

main(process.argv);
