'use strict';
// Reads stdin to the end and writes it back upper-cased with a line count.
function shout(text) {
  return text.toUpperCase();
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', () => {
  process.stdout.write(shout(input));
  console.log(`lines: ${input.split('\n').filter(Boolean).length}`);
});
