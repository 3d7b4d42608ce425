/**
 * `viz record` end to end, through the built CLI: every sample in samples/record runs traced and
 * untraced; stdout and the exit status must be the same, and the dump (read back with the ring
 * reader) must hold exactly the calls the program made, correctly nested.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  splitRecordArgv,
  pickMainProcess,
  mainProcessCandidates,
  defaultOutputName,
} from '../../src/record/index.js';
import {
  countByEdge,
  countByName,
  maxDepth,
  readTrace,
  requireBuild,
  runPlain,
  runViz,
  SAMPLES,
  tempDir,
  userFrames,
  type Run,
  type Trace,
} from './record-helpers.js';

let dir: string;

before(() => {
  requireBuild();
  dir = tempDir();
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const SUMMARY = /^viz record: ([\d,]+) events kept, ([\d,]+) overwritten, (\d+) threads?.* -> (.+)$/m;

/** Runs the sample both ways, checks they behaved the same, returns the traced trace. */
async function traceSample(
  sample: string,
  args: string[] = [],
  input?: string,
): Promise<{ plain: Run; traced: Run; trace: Trace; out: string }> {
  const out = join(dir, `${sample.replace(/[/.]/g, '_')}-${args.join('_')}.vizdump`);
  const plain = runPlain(sample, args, input);
  const traced = runViz(['-o', out, join(SAMPLES, sample), ...args], { input });
  assert.equal(traced.stdout, plain.stdout, `${sample}: stdout differs; viz stderr:\n${traced.stderr}`);
  assert.equal(traced.status, plain.status, `${sample}: exit status differs; viz stderr:\n${traced.stderr}`);
  assert.equal(traced.signal, plain.signal, `${sample}: signal differs`);
  const m = SUMMARY.exec(traced.stderr);
  assert.ok(m, `${sample}: no summary line in:\n${traced.stderr}`);
  assert.equal(m[4], out);
  assert.ok(existsSync(out), `${out} was not written`);
  const trace = await readTrace(out);
  const kept = Number(m[1]!.replace(/,/g, ''));
  assert.equal(kept, trace.records, 'summary count');
  return { plain, traced, trace, out };
}

describe('viz record: samples', function () {
  this.timeout(120000);

  it('fib.js 20: 21,891 calls of fib, nested under main, 20 deep', async () => {
    const { trace, plain } = await traceSample('fib.js', ['20']);
    assert.equal(plain.stdout, 'fib(20) = 6765\n');
    assert.deepEqual(countByName(trace), { main: 1, fib: 21891 });
    // fib(20) is called by main; every other fib by a fib.
    assert.deepEqual(countByEdge(trace), { 'main@-': 1, 'fib@main': 1, 'fib@fib': 21890 });
    assert.equal(trace.roots.length, 1);
    assert.equal(maxDepth(trace.roots), 1 + 20); // main, fib(20) .. fib(1)
    assert.equal(trace.threads, 1);
    assert.equal(trace.overwritten, 0);
    assert.ok(trace.calls.every((c) => !c.unclosed));
  });

  it('classes.js: constructors, inheritance, getters/setters, static blocks, private methods', async () => {
    const { trace } = await traceSample('classes.js');
    assert.deepEqual(countByName(trace), {
      'Shape.<static>': 1,
      main: 1,
      'Rect.constructor': 3,
      'Shape.constructor': 4,
      'Square.constructor': 1,
      'Circle.constructor': 1,
      'Shape.set name': 1,
      'Shape.#normalise': 1,
      'Square.set side': 1,
      'Square.get side': 1,
      'Shape.describe': 4,
      'Shape.get name': 4,
      'Shape.#format': 4,
      'Rect.area': 3,
      'Circle.area': 1,
    });
    assert.deepEqual(countByEdge(trace), {
      'Shape.<static>@-': 1,
      'main@-': 1,
      'Rect.constructor@main': 2,
      'Rect.constructor@Square.constructor': 1,
      'Square.constructor@main': 1,
      'Circle.constructor@main': 1,
      'Shape.constructor@Rect.constructor': 3,
      'Shape.constructor@Circle.constructor': 1,
      'Shape.set name@Square.constructor': 1,
      'Shape.#normalise@Shape.set name': 1,
      'Square.set side@main': 1,
      'Square.get side@main': 1,
      'Shape.describe@main': 4,
      'Shape.get name@Shape.describe': 4,
      'Shape.#format@Shape.describe': 4,
      'Rect.area@Shape.describe': 3,
      'Circle.area@Shape.describe': 1,
    });
  });

  it('async.js: one slice per run between awaits, timers and a handled rejection', async () => {
    const { trace } = await traceSample('async.js');
    const byName = countByName(trace);
    // main awaits 5 times (6 slices); safeFetch x6 and fetchValue x6 await once each (2 slices).
    assert.deepEqual(byName, { main: 6, safeFetch: 12, fetchValue: 12, delay: 6, '<anonymous>': 13 });
    const edges = countByEdge(trace);
    assert.equal(edges['delay@fetchValue'], 6);
    assert.equal(edges['fetchValue@safeFetch'], 6, 'first slice of each fetchValue runs inside safeFetch');
    assert.equal(edges['safeFetch@main'], 6);
    // resumed slices start from the event loop: roots
    assert.equal(edges['fetchValue@-'], 6);
    assert.equal(edges['safeFetch@-'], 6);
    assert.equal(edges['main@-'], 6);
    assert.ok(trace.calls.every((c) => !c.unclosed));
  });

  it('generators.js: one slice per resumption; yield* delegates without resuming the delegator', async () => {
    const { trace } = await traceSample('generators.js');
    assert.deepEqual(countByName(trace), {
      main: 1,
      map: 6,
      filter: 6,
      naturals: 18,
      isOdd: 10,
      square: 5,
      concat: 3,
    });
    assert.deepEqual(countByEdge(trace), {
      'main@-': 1,
      'map@main': 6,
      'filter@map': 6,
      'naturals@filter': 11,
      'isOdd@filter': 10,
      'square@map': 5,
      'concat@main': 3,
      'naturals@main': 7, // naturals(3) and naturals(2) resumed by main's spread through yield*
    });
  });

  it('esm/app.mjs: ES modules across two files, through the load hooks', async () => {
    const { trace } = await traceSample('esm/app.mjs');
    // The comparator runs as often as V8's sort calls it: count it here on the same data.
    const words = 'the quick brown fox jumps over the lazy dog the end'.split(' ');
    const counts = new Map<string, number>();
    for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
    let compares = 0;
    [...counts.entries()].sort((a, b) => (compares++, b[1] - a[1] || a[0].localeCompare(b[0])));
    assert.deepEqual(countByName(trace), {
      run: 1,
      'Counter.add': 11,
      tally: 1,
      compare: compares,
      '<anonymous>': 3,
    });
    const edges = countByEdge(trace);
    assert.equal(edges['compare@tally'], compares);
    assert.equal(edges['Counter.add@run'], 11);
    const files = new Set(trace.calls.map((c) => c.where.replace(/:\d+:\d+$/, '')));
    assert.deepEqual([...files].sort(), [join(SAMPLES, 'esm', 'app.mjs'), join(SAMPLES, 'esm', 'lib.mjs')]);
  });

  it('ts/app.ts: run through tsx, original names and .ts lines', async () => {
    const { trace } = await traceSample('ts/app.ts');
    const at = (name: string) => [...new Set(trace.calls.filter((c) => c.name === name).map((c) => c.where))];
    const m = join(SAMPLES, 'ts', 'matrix.ts');
    assert.deepEqual(at('buildReport'), [`${join(SAMPLES, 'ts', 'app.ts')}:9:1`]);
    assert.deepEqual(at('Matrix.identity'), [`${m}:4:3`]);
    assert.deepEqual(at('Matrix.scale'), [`${m}:10:3`]);
    assert.deepEqual(at('Matrix.multiply'), [`${m}:14:3`]);
    assert.deepEqual(at('Matrix.trace'), [`${m}:30:3`]);
    assert.equal(at('Matrix.dot')[0]?.replace(/:\d+$/, ''), `${m}:24`);
    const byName = countByName(trace);
    assert.equal(byName.buildReport, 1);
    assert.equal(byName['Matrix.multiply'], 1);
    assert.equal(byName['Matrix.dot'], 9);
    assert.equal(byName['Matrix.constructor'], 3);
    const edges = countByEdge(trace);
    assert.equal(edges['Matrix.dot@Matrix.multiply'], 9);
    assert.equal(edges['Matrix.multiply@buildReport'], 1);
    assert.ok(
      trace.calls.every((c) => c.where.includes('.ts:')),
      'every frame is in a .ts file',
    );
  });

  it('worker.js: the worker thread has its own ring in the same dump', async () => {
    const { trace } = await traceSample('worker.js');
    assert.equal(trace.threads, 2);
    // fib(15) in the worker (1,973 calls) and fib(10) on the main thread (177 calls)
    assert.equal(countByName(trace).fib, 1973 + 177);
  });

  it('esm/workers.mjs: an ES module worker is instrumented too (its own hooks on Node 20)', async () => {
    const { trace } = await traceSample('esm/workers.mjs');
    assert.equal(trace.threads, 2);
    assert.deepEqual(countByName(trace), { start: 1, '<anonymous>': 1, fib: 2 * 233 - 1 });
  });

  it('spawn-child.js: a child Node.js process is traced and merged into the same trace', async () => {
    const { trace, traced } = await traceSample('spawn-child.js');
    // runChild in the parent; main + fib(10) (177 calls) in the child
    assert.deepEqual(countByName(trace), { runChild: 1, main: 1, fib: 177 });
    assert.match(traced.stderr, / in 2 processes /);
  });

  it('tostring.js: Function.prototype.toString returns the original source', async () => {
    const { plain } = await traceSample('tostring.js');
    assert.match(plain.stdout, /function toString\(\) \{ \[native code\] \}/);
  });

  it('stdin.js: stdin passes through', async () => {
    const { traced, trace } = await traceSample('stdin.js', [], 'one\ntwo\nthree\n');
    assert.equal(traced.stdout, 'ONE\nTWO\nTHREE\nlines: 3\n');
    assert.equal(countByName(trace).shout, 1);
  });
});

describe('viz record: failures pass through', function () {
  this.timeout(120000);

  it('throws.js: exit 1, and the stack trace has the same lines and columns as untraced', async () => {
    const { plain, traced, trace } = await traceSample('throws.js');
    assert.equal(plain.status, 1);
    const expected = userFrames(plain.stderr, SAMPLES);
    assert.deepEqual(expected.slice(0, 3), [
      `at parse (${join(SAMPLES, 'throws.js')}:4:36)`,
      `at load (${join(SAMPLES, 'throws.js')}:9:10)`,
      `at main (${join(SAMPLES, 'throws.js')}:14:3)`,
    ]);
    assert.deepEqual(userFrames(traced.stderr, SAMPLES), expected);
    assert.match(traced.stderr, /TypeError: not an object: nope/);
    // the exception left every frame through its finally: nothing is open at the dump
    assert.deepEqual(
      trace.calls.filter((c) => c.unclosed).map((c) => c.name),
      [],
    );
    assert.deepEqual(countByName(trace), { main: 1, load: 2, parse: 2 });
  });

  it('ts/throws.ts: stack positions through tsx and the instrumentation are the original .ts ones', async () => {
    const { plain, traced, trace } = await traceSample('ts/throws.ts');
    assert.equal(plain.status, 1);
    const file = join(SAMPLES, 'ts', 'throws.ts');
    const expected = userFrames(plain.stderr, SAMPLES);
    assert.deepEqual(expected.slice(0, 2), [`at validate (${file}:8:29)`, `at <anonymous> (${file}:13:35)`]);
    assert.deepEqual(userFrames(traced.stderr, SAMPLES), expected);
    // map callbacks: 1 + 2 (the second throws), reduce callback: 1 (the second total never reduces)
    const { __name: _helper, ...user } = countByName(trace);
    assert.deepEqual(user, { total: 2, '<anonymous>': 4, validate: 3 });
  });

  it("ts/throws.ts: helpers the compiler injects (esbuild's __name) are not frames of the .ts file", async () => {
    const { trace } = await traceSample('ts/throws.ts');
    const helpers = trace.calls.filter((c) => c.name.startsWith('__')).map((c) => `${c.name} (${c.where})`);
    assert.deepEqual([...new Set(helpers)], []);
  });

  it('rejects.mjs: an unhandled rejection keeps its exit code and stack', async () => {
    const { plain, traced, trace } = await traceSample('rejects.mjs');
    assert.equal(plain.status, 1);
    assert.deepEqual(userFrames(traced.stderr, SAMPLES), userFrames(plain.stderr, SAMPLES));
    assert.equal(countByName(trace).start, 1);
  });

  it('exit-code.js 7: process.exit(7) passes through; open frames are closed at the dump', async () => {
    const { traced, trace } = await traceSample('exit-code.js', ['7']);
    assert.equal(traced.status, 7);
    assert.deepEqual(countByEdge(trace), { 'work@-': 1, 'finish@work': 1 });
    assert.ok(trace.calls.every((c) => c.unclosed));
  });

  it("on-exit.js: calls made by the program's own exit listener are in the dump; process.exitCode passes through", async () => {
    const { traced, trace } = await traceSample('on-exit.js');
    assert.equal(traced.status, 4);
    assert.deepEqual(countByEdge(trace), {
      'collect@-': 1,
      '<anonymous>@-': 1,
      'summarise@<anonymous>': 1,
      '<anonymous>@summarise': 5,
    });
  });

  it('snapshot.js: a SIGUSR2 snapshot is kept beside the output, the program goes on', async () => {
    const { out, trace } = await traceSample('snapshot.js');
    const snapshot = out.replace(/\.vizdump$/, '.1.vizdump');
    assert.ok(existsSync(snapshot), `${snapshot} missing`);
    const snap = await readTrace(snapshot);
    // the snapshot has the first phase only; the final dump has both
    assert.deepEqual(countByName(snap), { phase: 1, step: 100 });
    assert.equal(snap.signal, 12);
    const final = countByName(trace);
    assert.equal(final.phase, 2);
    assert.equal(final.step, 150);
  });

  it('signal.js: death by SIGTERM passes through and the dump says so', async () => {
    const { traced, trace } = await traceSample('signal.js', ['SIGTERM']);
    assert.equal(traced.signal, 'SIGTERM');
    assert.equal(trace.signal, 15);
    assert.match(traced.stderr, /program killed by SIGTERM/);
    assert.equal(countByName(trace).spin, 1);
  });
});

describe('viz record: command line', function () {
  this.timeout(120000);

  it('-- node <flags> script: a command that starts node', async () => {
    const out = join(dir, 'cmd.vizdump');
    const r = runViz(['-o', out, '--', process.execPath, '--stack-size=2000', join(SAMPLES, 'fib.js'), '12']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'fib(12) = 144\n');
    assert.equal(countByName(await readTrace(out)).fib, 2 * 233 - 1);
  });

  it("-- node --import tsx app.ts: our hooks chain after the program's own tsx", async () => {
    const out = join(dir, 'cmd-tsx.vizdump');
    const r = runViz(['-o', out, '--', 'node', '--import', 'tsx', join(SAMPLES, 'ts', 'app.ts')]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(countByName(await readTrace(out))['Matrix.dot'], 9);
  });

  it('-- npm run <script>: npm is not traced, the node process it starts is', async () => {
    const project = join(dir, 'project');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(project, { recursive: true });
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'p',
        version: '1.0.0',
        scripts: { fib: `node ${JSON.stringify(join(SAMPLES, 'fib.js'))} 11` },
      }),
    );
    const out = join(dir, 'npm.vizdump');
    const r = runViz(['-o', out, '--', 'npm', 'run', '--silent', 'fib'], { cwd: project });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'fib(11) = 89');
    assert.deepEqual(countByName(await readTrace(out)), { main: 1, fib: 2 * 144 - 1 });
  });

  it('a wrapper that only re-executes node (nothing recorded) yields to the process it started', async () => {
    const out = join(dir, 'wrapper.vizdump');
    const script = `require('node:child_process').spawnSync(process.execPath, [${JSON.stringify(join(SAMPLES, 'fib.js'))}, '9'], { stdio: 'inherit' })`;
    const r = runViz(['-o', out, '--', 'node', '-e', script]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'fib(9) = 34\n');
    assert.deepEqual(countByName(await readTrace(out)), { main: 1, fib: 2 * 55 - 1 });
    assert.match(r.stderr, / in 2 processes /);
  });

  it('-o trace.json converts to Chrome JSON; -o trace.json.gz gzips it', async () => {
    for (const name of ['fib.json', 'fib.json.gz']) {
      const out = join(dir, name);
      const r = runViz(['-o', out, join(SAMPLES, 'fib.js'), '10']);
      assert.equal(r.status, 0, r.stderr);
      const raw = readFileSync(out);
      const doc = JSON.parse((name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as {
        traceEvents: Array<{ ph: string; name: string }>;
      };
      const fibB = doc.traceEvents.filter((e) => e.ph === 'B' && e.name.startsWith('fib ('));
      assert.equal(fibB.length, 177);
    }
  });

  it('default output name in the working directory, stated in the summary', async () => {
    const cwd = join(dir, 'default-out');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(cwd);
    const r = runViz([join(SAMPLES, 'fib.js'), '5'], { cwd });
    assert.equal(r.status, 0, r.stderr);
    const files = readdirSync(cwd);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^viz-fib-\d{8}-\d{6}\.vizdump$/);
    assert.match(
      r.stderr,
      new RegExp(`-> ${join(cwd, files[0]!).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
    );
  });

  it('--buffer-size keeps only the newest events and counts the rest as overwritten', async () => {
    const out = join(dir, 'small.vizdump');
    const r = runViz(['--buffer-size', '4096', '-o', out, join(SAMPLES, 'fib.js'), '20']);
    assert.equal(r.status, 0, r.stderr);
    const m = SUMMARY.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.equal(Number(m[1]!.replace(/,/g, '')), 4096);
    assert.equal(Number(m[2]!.replace(/,/g, '')), 43784 - 4096);
  });

  it('arguments after the script belong to the program, even ones that look like viz flags', () => {
    const flags = {
      output: { type: 'option', char: 'o' },
      'buffer-size': { type: 'option' },
      'no-cache': { type: 'boolean' },
    };
    assert.deepEqual(splitRecordArgv(['-o', 'x.json', 'app.js', '-o', 'y', '--', 'z'], flags), {
      vizArgv: ['-o', 'x.json'],
      program: ['app.js', '-o', 'y', '--', 'z'],
      command: false,
    });
    assert.deepEqual(splitRecordArgv(['--buffer-size', '9000', '--no-cache', '--', 'npm', 'test'], flags), {
      vizArgv: ['--buffer-size', '9000', '--no-cache'],
      program: ['npm', 'test'],
      command: true,
    });
  });

  it('picks the direct child, else the earliest process whose parent was not traced', () => {
    const metas = [
      { pid: 30, ppid: 20, argv: [], startedAt: 3 },
      { pid: 20, ppid: 10, argv: [], startedAt: 2 },
      { pid: 40, ppid: 20, argv: [], startedAt: 4 },
      { pid: 50, ppid: 40, argv: [], startedAt: 1 },
    ];
    assert.equal(pickMainProcess(metas, 30)?.pid, 30);
    assert.equal(pickMainProcess(metas, 10)?.pid, 20);
    assert.deepEqual(
      mainProcessCandidates(metas, 10).map((m) => m.pid),
      [20, 30, 40, 50],
    );
    assert.equal(pickMainProcess([], 10), undefined);
    assert.match(
      defaultOutputName(['node', '--x', 'srv/app.mjs'], true, new Date(2026, 0, 2, 3, 4, 5)),
      /^viz-app-20260102-030405\.vizdump$/,
    );
  });

  it('an output in a missing directory is a usage error before the program runs', () => {
    const r = runViz(['-o', join(dir, 'no', 'such', 'dir', 'x.vizdump'), join(SAMPLES, 'fib.js'), '5']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no such directory for the output x\.vizdump/);
  });

  it('launchers are recognised by their script path, programs are not', async () => {
    const { isLauncher } = await import('../../src/record/runtime/preload.js');
    for (const p of [
      '/usr/lib/node_modules/npm/bin/npm-cli.js',
      '/usr/lib/node_modules/npm/bin/npx-cli.js',
      '/p/node_modules/.bin/tsx',
      '/p/node_modules/tsx/dist/cli.mjs',
      '/usr/lib/node_modules/corepack/dist/pnpm.js',
      '/p/.yarn/releases/yarn.cjs',
      '/p/.yarn/releases/yarn-4.5.1.cjs',
    ]) {
      assert.equal(isLauncher(p), true, p);
    }
    for (const p of [
      '/p/app.js',
      '/p/npm-tools.js',
      '/p/node_modules/mocha/bin/mocha.js',
      '/p/mytsx.mjs',
      undefined,
    ]) {
      assert.equal(isLauncher(p), false, String(p));
    }
  });

  it('a missing script is a usage error (exit 2), not a crash', () => {
    const r = runViz([join(SAMPLES, 'nope.js')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /nope\.js: no such script/);
  });
});
