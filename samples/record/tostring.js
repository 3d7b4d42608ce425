'use strict';
// Prints the source text of functions (Function.prototype.toString must return the original).
function add(a, b) {
  return a + b;
}

class Greeter {
  greet(name) {
    return `hello ${name}`;
  }
}

const twice = (x) => x * 2;

async function* ticks(n) {
  for (let i = 0; i < n; i++) yield await i;
}

for (const fn of [add, Greeter, Greeter.prototype.greet, twice, ticks]) console.log(fn.toString());
console.log(Function.prototype.toString.toString());
console.log(add(1, twice(2)));
