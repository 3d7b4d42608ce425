'use strict';
// Throws an uncaught error three calls deep: exit code 1 and a stack trace on stderr.
function parse(text) {
  if (!text.startsWith('{')) throw new TypeError(`not an object: ${text}`);
  return JSON.parse(text);
}

function load(text) {
  return parse(text.trim());
}

function main() {
  console.log(load('{"ok": true}').ok);
  load('  nope');
}

main();
