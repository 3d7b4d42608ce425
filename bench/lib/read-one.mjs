// Reads one Chrome JSON file with one method and prints {seconds, events, maxRssMB} as JSON.
// Run in its own process so peak RSS belongs to that method alone.
import { createReadStream, readFileSync, statSync } from 'node:fs';

const [mode, file] = process.argv.slice(2);
const size = statSync(file).size;
const t0 = performance.now();
let events = 0;
if (mode === 'viz') {
  const { openInput } = await import('../../dist/src/io/input.js');
  const { readChrome } = await import('../../dist/src/formats/chrome/reader.js');
  const source = readChrome(await openInput(file));
  for await (const batch of source.batches()) events += batch.length;
} else if (mode === 'json-parse') {
  const trace = JSON.parse(readFileSync(file, 'utf8'));
  events = (Array.isArray(trace) ? trace : trace.traceEvents).length;
} else if (mode === 'stream-json') {
  // stream-json 1.x and stream-chain are CommonJS: take their default exports.
  const { chain } = (await import('stream-chain')).default;
  const { parser } = (await import('stream-json')).default;
  const { pick } = (await import('stream-json/filters/Pick.js')).default;
  const { streamArray } = (await import('stream-json/streamers/StreamArray.js')).default;
  const pipeline = chain([createReadStream(file), parser(), pick({ filter: 'traceEvents' }), streamArray()]);
  pipeline.on('data', () => events++);
  await new Promise((resolve, reject) => pipeline.on('end', resolve).on('error', reject));
} else {
  throw new Error(`unknown mode ${mode}`);
}
const seconds = (performance.now() - t0) / 1000;
const maxRssMB = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({ mode, seconds, events, size, maxRssMB }));
