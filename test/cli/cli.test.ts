import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../support/fixtures.js';
import { viz } from '../support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'viz-cli-'));
const fib = join(FIXTURES, 'viztracer-generated/fib15.json');
const partial = join(FIXTURES, 'external/speedscope/simple-partial.json');

describe('viz CLI', () => {
  it('viz --help lists the commands', () => {
    const r = viz(['--help']);
    assert.equal(r.status, 0);
    for (const cmd of ['convert', 'info']) assert.match(r.stdout, new RegExp(`\\n\\s+${cmd}\\s`));
  });

  for (const cmd of ['convert', 'info', 'record', 'flamegraph', 'stats', 'view']) {
    it(`viz ${cmd} --help shows a summary, flags and at least two examples`, function () {
      const list = viz(['--help']).stdout;
      if (!new RegExp(`\\n\\s+${cmd}\\s`).test(list)) this.skip(); // command not built yet
      const r = viz([cmd, '--help']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /USAGE/);
      assert.match(r.stdout, /FLAGS/);
      assert.match(r.stdout, /EXAMPLES/);
      const examples = r.stdout.split('\n').filter((l) => /^\s+\$ viz /.test(l));
      assert.ok(examples.length >= 2, `only ${examples.length} examples`);
    });
  }

  it('convert writes Chrome JSON to stdout by default', () => {
    const r = viz(['convert', fib, '--to', 'chrome']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).traceEvents.length, 1979);
    assert.equal(r.stderr, '');
  });

  it('convert reads stdin with -', () => {
    const r = viz(['convert', '-', '--to', 'chrome'], { input: readFileSync(fib) });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).traceEvents.length, 1979);
  });

  it('convert infers the format from -o and gzips .json.gz', () => {
    const out = join(tmp, 'fib.json.gz');
    const r = viz(['convert', fib, '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    const raw = readFileSync(out);
    assert.deepEqual([raw[0], raw[1]], [0x1f, 0x8b]);
    assert.match(r.stderr, /wrote 1979 events/);
  });

  it('a truncated input converts with one warning; --strict makes it exit 1', () => {
    const r = viz(['convert', partial, '--to', 'chrome']);
    assert.equal(r.status, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /truncated/);
    assert.equal(viz(['convert', partial, '--to', 'chrome', '--strict']).status, 1);
  });

  it('bad usage exits 2 with one line and no stack trace', () => {
    const r = viz(['convert', fib, '--to', 'nonsense']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^viz: unknown output format "nonsense"/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    const r2 = viz(['convert', fib, '--bogus-flag']);
    assert.equal(r2.status, 2);
    assert.doesNotMatch(r2.stderr, /\n\s+at /);
  });

  it('bad input exits 3 naming the file and byte offset', () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, '[{"ph":"B","ts":1,"pid":1,"tid":1}\n  @@@');
    const r = viz(['info', bad]);
    assert.equal(r.status, 3);
    assert.equal(r.stderr, `viz: ${bad}: byte 37: expected an event object, found '@'\n`);
    const missing = viz(['info', join(tmp, 'nope.json')]);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /nope\.json: no such file/);
  });

  it('--debug adds the stack trace', () => {
    const bad = join(tmp, 'bad2.json');
    writeFileSync(bad, 'not json');
    const r = viz(['info', bad, '--debug']);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /\n\s+at /);
  });

  it('a failed run leaves an existing output untouched and no temporary files', () => {
    const dir = mkdtempSync(join(tmp, 'out-'));
    const target = join(dir, 'out.json');
    writeFileSync(target, 'precious');
    const bad = join(tmp, 'bad3.json');
    writeFileSync(bad, '[{"ph":"B","ts":1,"pid":1,"tid":1}, {"ph": nope}]');
    const r = viz(['convert', bad, '-o', target]);
    assert.equal(r.status, 3);
    assert.equal(readFileSync(target, 'utf8'), 'precious');
    assert.deepEqual(readdirSync(dir), ['out.json']);
  });

  it('an unwritable output directory is reported with exit 4', () => {
    const r = viz(['convert', fib, '-o', join(tmp, 'no-such-dir', 'out.json')]);
    assert.equal(r.status, 4);
    assert.match(r.stderr, /cannot write/);
  });

  it('info --json is machine-readable and counts phases, threads and names', () => {
    const r = viz(['info', fib, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.format, 'chrome');
    assert.deepEqual(report.phases, { M: 2, X: 1977 });
    assert.equal(report.processes[0].name, 'MainProcess');
    assert.equal(report.processes[0].threads[0].name, 'MainThread');
    assert.deepEqual(report.metadataKeys, ['viztracer_metadata', 'file_info']);
    assert.ok(report.durationUs > 0);
  });

  it('info reports truncation in its problems', () => {
    const r = viz(['info', partial]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /data_loss truncated_input x1/);
  });
});
