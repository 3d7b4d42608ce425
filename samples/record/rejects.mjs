// An unhandled rejection: Node prints it and exits with code 1.
async function fail(what) {
  await null;
  throw new Error(`${what} failed`);
}

function start() {
  console.log('starting');
  return fail('start');
}

start();
