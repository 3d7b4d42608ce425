'use strict';
// A worker thread computing fib(15) while the main thread computes fib(10).
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

if (isMainThread) {
  const worker = new Worker(__filename, { workerData: 15 });
  worker.on('message', (value) => {
    console.log(`main: fib(10) = ${fib(10)}, worker: fib(15) = ${value}`);
  });
} else {
  parentPort.postMessage(fib(workerData));
}
