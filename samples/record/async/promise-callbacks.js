'use strict';
// Promise callbacks: named functions, a handler held in a variable, and inline arrows.
function onValue(v) {
  return v * 2;
}
const onError = (err) => `caught ${err.message}`;

function fail() {
  return Promise.reject(new Error('nope'));
}

Promise.resolve(21)
  .then(onValue)
  .then((v) => console.log(`value ${v}`))
  .then(fail)
  .catch(onError)
  .then((msg) => console.log(msg))
  .finally(function cleanup() {
    console.log('finally');
  });
