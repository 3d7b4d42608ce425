'use strict';
// async/await with timers and a handled rejection.
function delay(ms, value) {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

async function fetchValue(i) {
  await delay(2 * i, null);
  if (i === 3) throw new Error(`value ${i} unavailable`);
  return i * 10;
}

async function safeFetch(i) {
  try {
    return await fetchValue(i);
  } catch (err) {
    console.log(`handled: ${err.message}`);
    return -1;
  }
}

async function main() {
  const results = [];
  for (let i = 1; i <= 4; i++) results.push(await safeFetch(i));
  const parallel = await Promise.all([safeFetch(5), safeFetch(6)]);
  console.log(`results: ${results.join(',')} parallel: ${parallel.join(',')}`);
}

main().then(() => console.log('done'));
