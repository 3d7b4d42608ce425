'use strict';
// Runs for `node dashcam.js <seconds>` (default 60) making calls in batches, counts the ring
// events its instrumented calls produce (enter + exit each), prints `ready <pid>` first and
// `events <n>` last; finishDashcam is the last function it enters, then it ends normally.
const seconds = Number(process.argv[2] ?? 60);
const TICKS = 20000;
let ticks = 0;
let batches = 0;
let acc = 0;
let deadline = 0;

function tick(i) {
  return (acc * 31 + i) % 1000003;
}

function batch() {
  batches++;
  for (let i = 0; i < TICKS; i++) acc = tick(i);
  ticks += TICKS;
  if (Date.now() < deadline) setTimeout(batch, 1);
  else finishDashcam();
}

function finishDashcam() {
  // main, every batch, every tick and this call: one enter and one exit each.
  const events = 2 * (1 + batches + ticks + 1);
  console.log(`events ${events}`);
}

function main() {
  deadline = Date.now() + seconds * 1000;
  console.log(`ready ${process.pid}`);
  setTimeout(batch, 1);
}

main();
