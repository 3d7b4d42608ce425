/**
 * Real programs under `viz record`: the test suites of npm packages (pinned devDependencies,
 * shipped in their tarballs) pass traced with the same pass count and exit status as untraced,
 * and the trace holds the packages' own functions.
 *
 * - fastq (tape): an async work queue, callbacks and promises;
 * - pump (plain node): streams from /dev/random through a transform to /dev/null (async I/O);
 * - @fastify/error (`node --test`): Node's test runner runs each test file in a child process,
 *   and one test forks a process of its own; all of them are merged into one trace.
 *
 * Each package is copied out of viz's node_modules (whose files viz never instruments) into a
 * temp directory whose `node_modules` links back, so its dependencies resolve as installed.
 * Run with `npm run test:real` (after `npm run build`).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRingDump, type RingProcessSummary } from '../../src/formats/ring/reader.js';
import { BIN, requireBuild, ROOT } from '../record/record-helpers.js';

interface Suite {
  pkg: string;
  /** The package's test command (its runner part), run in the package directory. */
  argv: string[];
  /** Number of passing tests, from the runner's output. */
  passes: (stdout: string) => number;
  /** Functions of the package that must be in the trace (`name (file` prefix). */
  functions: string[];
  /** At least this many processes in the trace. */
  minProcesses: number;
}

const tapPasses = (out: string): number => Number(/^# pass\s+(\d+)/m.exec(out)?.[1] ?? -1);

const SUITES: Suite[] = [
  {
    pkg: 'fastq',
    argv: ['node', join(ROOT, 'node_modules', 'tape', 'bin', 'tape'), 'test/test.js', 'test/promise.js'],
    passes: tapPasses,
    functions: ['fastqueue', 'push', 'queueAsPromised'],
    minProcesses: 1,
  },
  {
    pkg: 'pump',
    argv: ['node', 'test-node.js'],
    passes: (out) => (out.match(/^test-node\.js passes$/gm) ?? []).length,
    functions: ['pump', 'destroyer'],
    minProcesses: 1,
  },
  {
    pkg: '@fastify/error',
    argv: ['node', '--test'],
    passes: tapPasses,
    functions: ['createError'],
    minProcesses: 3,
  },
];

let dir: string;

before(() => {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), 'viz-real-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(argv: string[], cwd: string) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // the test runner's own tsx loader stays out
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env, encoding: 'utf8', timeout: 300_000 });
  if (r.error) throw r.error;
  return r;
}

describe('real test suites under viz record', function () {
  this.timeout(600_000);

  for (const suite of SUITES) {
    it(`${suite.pkg}: same passes and exit status traced; the trace holds its functions`, async () => {
      const copy = join(dir, suite.pkg.replace('/', '__'));
      cpSync(join(ROOT, 'node_modules', suite.pkg), copy, { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
      const plain = run(suite.argv, copy);
      const out = join(dir, `${suite.pkg.replace('/', '__')}.vizdump`);
      const traced = run([process.execPath, BIN, 'record', '-o', out, '--', ...suite.argv], copy);
      const passes = suite.passes(plain.stdout);
      assert.ok(passes > 0, `untraced run passed no test:\n${plain.stdout}\n${plain.stderr}`);
      assert.equal(plain.status, 0, plain.stderr);
      assert.equal(suite.passes(traced.stdout), passes, `traced pass count; stderr:\n${traced.stderr}`);
      assert.equal(traced.status, plain.status, traced.stderr);
      assert.match(traced.stderr, /^viz record: [\d,]+ events kept/m);

      const source = openRingDump(out);
      const seen = new Set<string>();
      for await (const batch of source.batches()) {
        for (const e of batch)
          if (e.ph === 'B' && e.name.includes(copy)) seen.add(e.name.replace(/ \(.*$/, ''));
      }
      for (const f of suite.functions)
        assert.ok(seen.has(f), `${f} is in the trace (saw ${[...seen].slice(0, 20).join(', ')})`);
      const processes = source.meta.topLevel.processes as RingProcessSummary[];
      assert.ok(processes.length >= suite.minProcesses, `${processes.length} processes in the trace`);
    });
  }
});
