import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../support/fixtures.js';
import { viz } from '../support/cli.js';
import { writeTemp } from './oracle.js';

// The built CLI (npm test builds first): thin commands, exit codes, stdin, output files.
const fib = join(FIXTURES, 'viztracer-generated/fib15.json');
const threads = join(FIXTURES, 'viztracer-generated/threads.json');

describe('viz stats / viz flamegraph CLI', () => {
  it('stats prints an aligned table, no colours in a pipe', () => {
    const r = viz(['stats', fib, '--top', '2']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /1973\/1 +441\.476 µs +94\.88%/);
    assert.doesNotMatch(r.stdout, /\x1b\[/);
  });

  it('stats reads stdin and writes JSON / CSV', () => {
    const r = viz(['stats', '-', '--json', '--thread', 'MainThread'], { input: readFileSync(threads) });
    assert.equal(r.status, 0, r.stderr);
    const json = JSON.parse(r.stdout) as { input: string; rows: unknown[] };
    assert.equal(json.input, '<stdin>');
    assert.ok(json.rows.length > 0);
    const csv = viz(['stats', fib, '--csv']);
    assert.equal(csv.stdout.split('\n')[0]!.split(',')[0], 'calls');
  });

  it('usage errors exit 2 with one line', () => {
    for (const args of [
      ['stats', fib, '--top', '0'],
      ['stats', fib, '--sort', 'bogus'],
      ['stats', fib, '--thread', 'nope'],
      ['flamegraph', fib, '-o', writeTemp('', '.png')],
    ]) {
      const r = viz(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^viz: /);
    }
    assert.equal(viz(['stats', join(FIXTURES, 'nope.json')]).status, 3);
  });

  it('flamegraph writes SVG, HTML and folded files', () => {
    const svg = writeTemp('', '.svg');
    const r = viz(['flamegraph', fib, '-o', svg, '--title', 'fib', '--colors', 'blue']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /wrote \d+ frames \(svg\)/);
    assert.match(readFileSync(svg, 'utf8'), /<svg /);
    const folded = viz(['flamegraph', fib, '--format', 'folded', '--unit', 'us']);
    assert.equal(folded.status, 0, folded.stderr);
    assert.match(
      folded.stdout,
      /^builtins\.exec;<module> \(\/home\/user\/vtprog\/fib\.py:1\);builtins\.print 14$/m,
    );
    // Render that folded text from stdin.
    const again = viz(['flamegraph', '-', '--format', 'svg', '--unit', 'us'], { input: folded.stdout });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /builtins\.print/);
  });

  it('--diff takes two inputs', () => {
    const before = join(FIXTURES, 'external/viztracer-examples/tests-fib.json');
    assert.equal(viz(['stats', '--diff', before, fib, '--top', '3']).status, 0);
    assert.equal(viz(['stats', '--diff', fib]).status, 2);
    const svg = writeTemp('', '.svg');
    assert.equal(viz(['flamegraph', '--diff', before, fib, '-o', svg]).status, 0);
    assert.match(readFileSync(svg, 'utf8'), /Differential Flame Graph/);
  });
});
