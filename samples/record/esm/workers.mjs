// An ES module worker thread: fib(12) computed in ./fib-worker.mjs.
import { Worker } from 'node:worker_threads';

function start(n) {
  return new Worker(new URL('./fib-worker.mjs', import.meta.url), { workerData: n });
}

start(12).on('message', (value) => console.log(`worker: fib(12) = ${value}`));
