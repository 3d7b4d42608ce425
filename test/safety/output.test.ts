/**
 * Output safety, through the built CLI: when the disk fills up, the file size limit is hit, the
 * output directory is read-only or missing, or the run is interrupted, viz says so in one line
 * with exit status 4 (130 when interrupted), leaves no file under the output name (and no
 * temporary file beside it), and an existing file of that name keeps its content.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../support/fixtures.js';
import { VIZ, viz } from '../support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'viz-safety-'));
const fib = join(FIXTURES, 'viztracer-generated', 'fib15.json');
const OLD = 'existing content\n';

/** Size of a file that may disappear meanwhile (0 then). */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Every entry of `dir` (temporary files start with a dot). */
const entries = (dir: string): string[] => readdirSync(dir).sort();

/** Mounts a small tmpfs (root only); returns undefined with the reason when that is not possible. */
function mountTmpfs(dir: string, options: string): string | undefined {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0
    ? undefined
    : `cannot mount a tmpfs here (${(r.stderr || r.error?.message || '').trim()})`;
}
function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

function assertOneLineError(
  r: { status: number | null; stderr: string },
  output: string,
  cause: RegExp,
): void {
  assert.equal(r.status, 4, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    new RegExp(`^viz: ${output.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot write: `),
  );
  assert.match(lines[0]!, cause);
}

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('output safety: disk full', function () {
  this.timeout(60_000);
  const dir = join(tmp, 'full');
  let skipReason: string | undefined;
  before(() => {
    skipReason = mountTmpfs(dir, 'size=64k');
    if (skipReason) process.stdout.write(`      skipping the disk-full tests: ${skipReason}\n`);
  });
  after(() => {
    if (!skipReason) unmount(dir);
  });

  for (const [what, args] of [
    ['convert to Chrome JSON', (o: string) => ['convert', fib, '-o', o]],
    ['convert to gzip', (o: string) => ['convert', fib, '-o', o + '.gz']],
    ['convert to Perfetto', (o: string) => ['convert', fib, '-o', o.replace(/\.json$/, '.perfetto-trace')]],
    ['flamegraph', (o: string) => ['flamegraph', fib, '-o', o.replace(/\.json$/, '.html')]],
  ] as const) {
    it(`${what}: says so, writes nothing, keeps the existing file`, function () {
      if (skipReason) this.skip();
      const argv = args(join(dir, 'out.json'));
      const output = argv[argv.length - 1]!;
      writeFileSync(output, OLD);
      // Fill the disk but one page, so that no output of the fixture fits.
      writeFileSync(join(dir, 'filler'), Buffer.alloc(56 * 1024));
      const r = viz(argv);
      rmSync(join(dir, 'filler'));
      assertOneLineError(r, output, /no space left on device/);
      assert.equal(readFileSync(output, 'utf8'), OLD);
      assert.deepEqual(entries(dir), [output.slice(dir.length + 1)]);
      rmSync(output);
    });
  }
});

describe('output safety: other write failures', function () {
  this.timeout(60_000);

  it('file size limit (ulimit -f, EFBIG): says so, leaves nothing, keeps the existing file', () => {
    const dir = join(tmp, 'fsize');
    mkdirSync(dir);
    const output = join(dir, 'out.json');
    writeFileSync(output, OLD);
    const r = spawnSync(
      'bash',
      ['-c', `ulimit -f 16; exec "${process.execPath}" "${VIZ}" convert "${fib}" -o "${output}"`],
      { encoding: 'utf8' },
    );
    assertOneLineError(r, output, /file too large/);
    assert.equal(readFileSync(output, 'utf8'), OLD);
    assert.deepEqual(entries(dir), ['out.json']);
  });

  it('read-only file system: says so before reading the input', function () {
    const dir = join(tmp, 'ro');
    const reason = mountTmpfs(dir, 'ro,size=64k');
    if (reason) {
      process.stdout.write(`      skipping: ${reason}\n`);
      this.skip();
    }
    try {
      const output = join(dir, 'out.json');
      const r = viz(['convert', fib, '-o', output]);
      assertOneLineError(r, output, /read-only file system/);
      assert.deepEqual(entries(dir), []);
    } finally {
      unmount(dir);
    }
  });

  it('missing output directory and a parent that is a file', () => {
    const missing = join(tmp, 'no-such-dir', 'out.json');
    assertOneLineError(viz(['convert', fib, '-o', missing]), missing, /no such directory: /);
    const file = join(tmp, 'plain-file');
    writeFileSync(file, OLD);
    const under = join(file, 'out.json');
    assertOneLineError(viz(['convert', fib, '-o', under]), under, /not a directory/);
    assert.equal(readFileSync(file, 'utf8'), OLD);
  });

  it('the output is a directory: says so and leaves it alone', () => {
    const dir = join(tmp, 'is-dir');
    mkdirSync(dir);
    const r = viz(['convert', fib, '--to', 'chrome', '-o', dir]);
    assertOneLineError(r, dir, /is a directory/);
    assert.ok(statSync(dir).isDirectory());
    assert.deepEqual(
      entries(tmp).filter((e) => e.includes('viz-tmp')),
      [],
    );
  });
});

describe('output safety: what the output name points to', function () {
  this.timeout(60_000);

  it('a FIFO is written to, not replaced by a regular file', async () => {
    const dir = join(tmp, 'fifo');
    mkdirSync(dir);
    const fifo = join(dir, 'out.json');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'ignore'] });
    let got = '';
    reader.stdout.on('data', (c: Buffer) => (got += c.toString()));
    const ended = new Promise((r) => reader.on('close', r));
    const r = viz(['convert', fib, '--to', 'chrome', '-o', fifo]);
    await ended;
    assert.equal(r.status, 0, r.stderr);
    assert.ok(statSync(fifo).isFIFO(), 'the FIFO was replaced');
    assert.equal((JSON.parse(got) as { traceEvents: unknown[] }).traceEvents.length, 1979);
  });

  it('a symbolic link keeps pointing at its file, which gets the output', () => {
    const dir = join(tmp, 'link');
    mkdirSync(dir);
    writeFileSync(join(dir, 'real.json'), OLD);
    symlinkSync('real.json', join(dir, 'out.json'));
    const r = viz(['convert', fib, '-o', join(dir, 'out.json')]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(join(dir, 'out.json')).isSymbolicLink(), 'the link was replaced');
    assert.equal(
      (JSON.parse(readFileSync(join(dir, 'real.json'), 'utf8')) as { traceEvents: unknown[] }).traceEvents
        .length,
      1979,
    );
    assert.deepEqual(entries(dir), ['out.json', 'real.json']);
  });

  it('a link to a device (/dev/null) is written through, the link kept', () => {
    const dir = join(tmp, 'devlink');
    mkdirSync(dir);
    symlinkSync('/dev/null', join(dir, 'null.json'));
    const r = viz(['convert', fib, '-o', join(dir, 'null.json')]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(lstatSync(join(dir, 'null.json')).isSymbolicLink());
    assert.deepEqual(entries(dir), ['null.json']);
  });
});

describe('output safety: interrupted convert', function () {
  this.timeout(180_000);
  const big = join(tmp, 'big.json');

  before(async () => {
    // ~40 MB of Chrome JSON: long enough to interrupt while the output is being written.
    const out = createWriteStream(big);
    out.write('{"traceEvents":[\n');
    const chunk: string[] = [];
    for (let i = 0; i < 2000; i++) {
      chunk.push(
        `{"ph":"X","name":"work${i % 97} (src/app.js:${i % 500})","cat":"fn","ts":${i},"dur":0.5,"pid":1,"tid":${1 + (i % 3)},"args":{"i":${i}}},`,
      );
    }
    const text = chunk.join('\n') + '\n';
    for (let k = 0; k < 250; k++) {
      if (!out.write(text.replace(/"ts":(\d+),/g, (_m, t: string) => `"ts":${k * 2000 + Number(t)},`))) {
        await new Promise<void>((r) => out.once('drain', () => r()));
      }
    }
    out.write('{"ph":"i","name":"end","ts":600000,"pid":1,"tid":1,"s":"t"}]}\n');
    await new Promise((r) => out.end(r));
  });

  for (const [signal, status] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    for (const ext of ['.json', '.json.gz', '.perfetto-trace']) {
      it(`${signal} while writing ${ext}: no partial output, the existing file kept`, async () => {
        const dir = join(tmp, `${signal}-${ext.replace(/\W/g, '')}`);
        mkdirSync(dir);
        const output = join(dir, `out${ext}`);
        writeFileSync(output, OLD);
        const child = spawn(process.execPath, [VIZ, 'convert', big, '-o', output], {
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        const exited = new Promise<number | null>((resolve) =>
          child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null))),
        );
        // Wait until the temporary output has bytes in it, then interrupt.
        let started = false;
        for (let i = 0; i < 3000 && !started && child.exitCode === null; i++) {
          await new Promise((r) => setTimeout(r, 10));
          started = entries(dir).some((e) => e.includes('viz-tmp') && sizeOf(join(dir, e)) > 0);
        }
        assert.ok(started, `the temporary output never grew (exit ${child.exitCode}; ${stderr})`);
        child.kill(signal);
        const code = await exited;
        assert.equal(code, status, stderr);
        assert.match(stderr, /interrupted; no output written/);
        assert.equal(readFileSync(output, 'utf8'), OLD);
        assert.deepEqual(entries(dir), [`out${ext}`]);
        assert.ok(existsSync(big));
      });
    }
  }
});
