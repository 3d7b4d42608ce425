'use strict';
// An `exit` listener that calls process.exit() itself (as tape does), with another exit code.
function work() {
  return 42;
}
process.on('exit', function onExit(code) {
  process.removeAllListeners('exit');
  process.exit(code || 3);
});
console.log(`work = ${work()}`);
