'use strict';
// A pool of worker threads (named "pool-1", "pool-2") working through a queue of fib tasks.
const { Worker, isMainThread, parentPort } = require('node:worker_threads');

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

if (!isMainThread) {
  parentPort.on('message', (n) => parentPort.postMessage({ n, value: fib(n) }));
} else {
  const SIZE = 2;
  const tasks = [10, 11, 12, 13, 14, 15];
  const results = new Map();

  function startWorker(i) {
    const worker = new Worker(__filename, { name: `pool-${i}` });
    return new Promise((resolve) => {
      const next = () => {
        const n = tasks.shift();
        if (n === undefined) return worker.terminate().then(resolve);
        worker.postMessage(n);
      };
      worker.on('message', ({ n, value }) => {
        results.set(n, value);
        next();
      });
      next();
    });
  }

  Promise.all(Array.from({ length: SIZE }, (_, i) => startWorker(i + 1))).then(() => {
    for (const n of [...results.keys()].sort((a, b) => a - b)) console.log(`fib(${n}) = ${results.get(n)}`);
  });
}
