/**
 * Browser test helpers: Debian's Chromium driven by playwright-core (no browser
 * download), and the viz CLI run as a child process from `dist/`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ARTIFACTS = join(ROOT, 'test/artifacts');
export const CHROMIUM = process.env.VIZ_CHROMIUM ?? '/usr/bin/chromium';

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set VIZ_CHROMIUM)`);
  const profile = mkdtempSync(join(tmpdir(), 'viz-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 800 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface VizRun {
  child: ChildProcess;
  /** The first line on stdout (viz view prints the URL there). */
  firstLine: Promise<string>;
  exit: Promise<number | null>;
  stderr(): string;
}

export function runViz(args: string[]): VizRun {
  const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let resolveLine!: (s: string) => void;
  let rejectLine!: (e: Error) => void;
  const firstLine = new Promise<string>((res, rej) => {
    resolveLine = res;
    rejectLine = rej;
  });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    const nl = out.indexOf('\n');
    if (nl >= 0) resolveLine(out.slice(0, nl));
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((res) =>
    child.once('exit', (code) => {
      rejectLine(new Error(`viz exited (${code}) before printing a line: ${err}`));
      res(code);
    }),
  );
  return { child, firstLine, exit, stderr: () => err };
}

/** Waits until speedscope has imported a profile (it then titles the page `NAME - speedscope`) and drawn two frames. */
export async function waitForProfile(page: Page, timeoutMs: number): Promise<void> {
  await page.waitForFunction(() => / - speedscope$/.test(document.title), undefined, {
    timeout: timeoutMs,
    polling: 50,
  });
  await page.evaluate(
    () => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))),
  );
}

/** Symbol names listed by speedscope's Sandwich view (a DOM table), then back to the flame chart. */
export async function sandwichNames(page: Page): Promise<string[]> {
  await page.getByText('Sandwich', { exact: false }).first().click();
  await page.waitForFunction(() => document.body.innerText.includes('Symbol Name'), undefined, {
    timeout: 10_000,
  });
  // The table's rows render after its header: read until two reads 100 ms apart agree on a
  // non-empty list (or 10 s pass: a profile with no functions lists none).
  const read = async () => symbolRows(await page.evaluate(() => document.body.innerText));
  let names = await read();
  for (const start = Date.now(); Date.now() - start < 10_000;) {
    await new Promise((r) => setTimeout(r, 100));
    const again = await read();
    if (again.length > 0 && again.join('\n') === names.join('\n')) break;
    names = again;
  }
  await page.getByText('Time Order', { exact: false }).first().click();
  return names;
}

function symbolRows(text: string): string[] {
  const at = text.indexOf('Symbol Name');
  if (at < 0) return [];
  return text
    .slice(at + 'Symbol Name'.length)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^[\d.]+\s*(ns|µs|ms|s)\b/.test(l));
}

/** Fraction of non-background pixels in the flame chart area of a screenshot (PNG decoded by the browser). */
export async function paintedFraction(page: Page, png: Buffer): Promise<number> {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = 'data:image/png;base64,' + b64;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    // Below the toolbar and the minimap: the flame chart proper.
    const top = Math.floor(img.height * 0.2);
    const data = ctx.getImageData(0, top, img.width, img.height - top).data;
    let painted = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
      if (!(r > 240 && g > 240 && b > 240)) painted++;
    }
    return painted / (data.length / 4);
  }, png.toString('base64'));
}
