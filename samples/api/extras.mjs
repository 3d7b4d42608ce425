// Everything viz records beyond calls: run with every --log-* flag and the tracing API.
//   viz record --log-args --log-return --log-exceptions --log-console --log-gc \
//     --log-event-loop --log-memory --log-interval 10ms -o extras.json samples/api/extras.mjs [dump.vizdump]
// Untraced (node samples/api/extras.mjs) it prints the same and the API calls do nothing.
import pino from 'pino';
import {
  Counter,
  TracedObject,
  counter,
  dump,
  instant,
  pinoDestination,
  snapshot,
  span,
  start,
  stop,
  traced,
} from 'viz-trace';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function add(a, b) {
  return a + b;
}

class Shape {
  #sides;
  constructor(name, sides) {
    this.name = name;
    this.#sides = sides;
  }
  perimeter(length = 1) {
    return this.#sides * length;
  }
}

function risky(n) {
  if (n % 2 === 1) throw new TypeError(`odd: ${n}`);
  return n;
}

function describe(value, { depth = 0 } = {}) {
  return typeof value + depth;
}

function churn(rounds) {
  // garbage for the collector: young objects die at once
  let keep = 0;
  for (let i = 0; i < rounds; i++) keep += new Array(64).fill(i).length;
  return keep;
}

async function main() {
  instant('phase', { step: 'begin' }, { scope: 'process' });
  counter('work', { done: 0, left: 3 });

  const queue = new Counter('queue');
  queue.pending = 2;
  queue.pending = 1;

  const cache = new TracedObject('cache', { size: 0 });
  cache.size = 3;
  cache.destroy();
  snapshot('config', 7, { mode: 'demo' });

  console.log('sum', add(2, 3));
  console.log('perimeter', new Shape('square', 4).perimeter(5));
  describe({ a: 1, nested: { deep: [1, 2, 3] } }, { depth: 2 });

  for (let i = 0; i < 3; i++) {
    try {
      risky(i);
    } catch (err) {
      console.error('caught', err.message);
    }
  }
  try {
    JSON.parse('{'); // thrown by V8, seen where it is caught
  } catch (err) {
    console.error('bad JSON:', err.name);
  }

  span('block', () => add(10, 20), { why: 'demo' });
  await span('async block', async () => {
    await sleep(5);
    return add(1, 1);
  });

  stop();
  add(100, 100); // not recorded
  start();

  const double = traced(function double(x) {
    return x * 2;
  });
  console.log('double', double(21));

  const logger = pino({ base: undefined, timestamp: false }, pinoDestination());
  logger.info({ user: 'ada' }, 'hello from pino');

  console.log('churn', churn(200_000));
  for (let i = 0; i < 5; i++) await sleep(10);
  counter('work', { done: 3, left: 0 });
  if (process.argv[2]) dump(process.argv[2]);
  instant('phase', { step: 'end' });
}

await main();
