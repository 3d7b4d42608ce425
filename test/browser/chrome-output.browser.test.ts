/**
 * Chrome JSON written by `viz convert --to chrome` loads in a real viewer as the input did:
 * speedscope's own Chrome-trace importer, in Debian's Chromium, shows the same functions for
 * the original file and for viz's output. (The viewer is the offline build from the
 * `speedscope` package, served to the page through request interception: no network.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { launch, ROOT, runViz, sandwichNames, waitForProfile, type Browser } from './helpers.js';

const release = join(
  dirname(createRequire(import.meta.url).resolve('speedscope/package.json')),
  'dist',
  'release',
);
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

describe('viz convert --to chrome: the output loads in speedscope like the input', function () {
  this.timeout(180_000);
  let browser: Browser;
  let tmp: string;
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'viz-chrome-out-'));
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Loads one Chrome JSON file in speedscope; returns the function names it lists. */
  async function namesIn(traceFile: string): Promise<string[]> {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.route('http://viz.test/**', async (route) => {
      const path = new URL(route.request().url()).pathname;
      const file = path === '/trace.json' ? traceFile : join(release, basename(path) || 'index.html');
      await route.fulfill({
        body: readFileSync(file),
        contentType: TYPES[extname(file)] ?? 'application/octet-stream',
      });
    });
    await page.goto(
      'http://viz.test/index.html#profileURL=' + encodeURIComponent('http://viz.test/trace.json'),
    );
    await waitForProfile(page, 60_000);
    const names = await sandwichNames(page);
    await page.close();
    assert.deepEqual(problems, [], traceFile);
    return names.sort();
  }

  for (const fixture of [
    'test/fixtures/viztracer-generated/fib15.json',
    'test/fixtures/viztracer-generated/threads.json',
    'test/fixtures/external/speedscope/simple.json',
    'test/fixtures/external/catapult/simple_trace.json',
    'test/fixtures/external/speedscope/multiprocess.json',
    'test/fixtures/external/speedscope/simple-partial-trailing-comma.json',
    'test/fixtures/external/viztracer-examples/logging_integration.json',
  ]) {
    it(fixture, async () => {
      const out = join(tmp, basename(fixture).replace(/\.gz$/, '') + '.viz.json');
      const run = runViz(['convert', fixture, '--to', 'chrome', '-o', out]);
      assert.equal(await run.exit, 0, run.stderr());
      const input = join(ROOT, fixture);
      const before = await namesIn(input);
      const after = await namesIn(out);
      assert.ok(before.length > 0, 'the input shows functions');
      assert.deepEqual(after, before);
    });
  }
});
