/**
 * The flame graph SVG in a real headless Chromium: search highlights frames
 * and reports the matched share (nested recursive matches counted once),
 * clicking a frame zooms, Reset Zoom restores, tooltips carry name, file:line,
 * time and percent. Screenshots go to test/artifacts/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { flamegraph } from '../../src/analyze/flamegraph/index.js';
import { artifact, launch, ROOT, type Browser } from './helpers.js';

const FIB = join(ROOT, 'test/fixtures/viztracer-generated/fib15.json');
const tmp = mkdtempSync(join(tmpdir(), 'viz-fg-browser-'));

interface FrameInfo {
  name: string;
  x: number;
  width: number;
  hidden: boolean;
  fill: string;
}

async function frames(page: Page): Promise<FrameInfo[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('g.f')).map((g) => {
      const rect = g.querySelector('rect')!;
      return {
        name: g.querySelector('title')!.textContent!.split('\n')[0]!,
        x: Number(rect.getAttribute('x')),
        width: Number(rect.getAttribute('width')),
        hidden: getComputedStyle(g).display === 'none',
        fill: rect.getAttribute('fill')!,
      };
    }),
  );
}

describe('flame graph SVG in Chromium', function () {
  this.timeout(120_000);
  let browser: Browser;
  const errors: string[] = [];
  let svgPath: string;

  before(async () => {
    svgPath = join(tmp, 'fib.svg');
    await flamegraph(FIB, { output: svgPath, title: 'fib(15)', progress: false });
    browser = await launch();
    browser.page.on('pageerror', (e) => errors.push(e.message));
  });
  after(async () => {
    await browser?.close();
  });

  it('search highlights the matching frames and reports their share once', async () => {
    const page = browser.page;
    await page.goto(pathToFileURL(svgPath).href);
    await page.waitForSelector('g.f');
    const all = await frames(page);
    assert.ok(all.some((f) => f.name.startsWith('fib (')));
    page.once('dialog', (d) => void d.accept('^fib '));
    await page.click('#search');
    await page.waitForFunction(() => document.getElementById('matched')!.textContent!.startsWith('Matched'));
    const matched = await page.textContent('#matched');
    // fib's outermost call is 441.476 us of the 465.282 us run: 94.9%. Counting every
    // nested recursive frame again would report several hundred percent.
    assert.equal(matched, 'Matched: 94.9%');
    const after = await frames(page);
    const fib = after.filter((f) => f.name.startsWith('fib ('));
    assert.ok(fib.length > 10);
    assert.ok(
      fib.every((f) => f.fill === 'rgb(230,0,230)'),
      'every fib frame highlighted',
    );
    assert.ok(after.filter((f) => !f.name.startsWith('fib (')).every((f) => f.fill !== 'rgb(230,0,230)'));
    await page.screenshot({ path: artifact('flamegraph-search.png') });
    // "Reset Search" clears the highlight.
    await page.click('#search');
    assert.equal((await frames(page)).filter((f) => f.fill === 'rgb(230,0,230)').length, 0);
    assert.deepEqual(errors, []);
  });

  it('clicking a frame zooms to it; Reset Zoom restores the layout', async () => {
    const page = browser.page;
    await page.goto(pathToFileURL(svgPath).href);
    await page.waitForSelector('g.f');
    const before = await frames(page);
    const outer = before.find((f) => f.name.startsWith('fib ('))!;
    assert.ok(outer.width < 1150);
    // The widest fib frame is the outermost call; click it.
    const widest = before.filter((f) => f.name.startsWith('fib (')).sort((a, b) => b.width - a.width)[0]!;
    const index = before.indexOf(widest);
    await page.locator('g.f').nth(index).locator('rect').click();
    const zoomed = await frames(page);
    assert.ok(
      Math.abs(zoomed[index]!.width - 1180) < 0.5,
      `zoomed frame spans the width: ${zoomed[index]!.width}`,
    );
    const print = zoomed.find((f) => f.name === 'builtins.print')!;
    assert.equal(print.hidden, true, 'a frame outside the zoomed one is hidden');
    assert.equal(await page.isVisible('#unzoom'), true);
    await page.screenshot({ path: artifact('flamegraph-zoom.png') });
    await page.click('#unzoom');
    const reset = await frames(page);
    assert.ok(Math.abs(reset[index]!.width - widest.width) < 0.01);
    assert.equal(reset.find((f) => f.name === 'builtins.print')!.hidden, false);
    assert.deepEqual(errors, []);
  });

  it('hovering shows name, file:line, time and percent', async () => {
    const page = browser.page;
    await page.goto(pathToFileURL(svgPath).href);
    const all = await frames(page);
    const index = all.findIndex((f) => f.name.startsWith('<module>'));
    await page.locator('g.f').nth(index).locator('rect').hover();
    const details = await page.textContent('#details');
    assert.match(
      details!,
      /^<module> \(\/home\/user\/vtprog\/fib\.py:1\) \| \/home\/user\/vtprog\/fib\.py:1 \| 461\.526 µs \(99\.19%\), self 5\.529 µs$/,
    );
  });

  it('HTML output, icicle layout and a differential graph load without errors', async () => {
    const page = browser.page;
    const html = join(tmp, 'fib.html');
    await flamegraph(FIB, { output: html, inverted: true, progress: false });
    await page.goto(pathToFileURL(html).href);
    const pct = await page.evaluate(() =>
      (window as unknown as { vizFlamegraph: { search(s: string): number } }).vizFlamegraph.search('print'),
    );
    assert.ok(pct > 3 && pct < 3.2, String(pct));
    await page.screenshot({ path: artifact('flamegraph-icicle.png') });
    const diff = join(tmp, 'diff.svg');
    await flamegraph(join(ROOT, 'test/fixtures/external/viztracer-examples/tests-fib.json'), {
      diffAfter: FIB,
      output: diff,
      progress: false,
    });
    await page.goto(pathToFileURL(diff).href);
    await page.waitForSelector('g.f');
    await page.screenshot({ path: artifact('flamegraph-diff.png') });
    assert.deepEqual(errors, []);
  });
});
