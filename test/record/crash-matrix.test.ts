/**
 * The crash matrix (README "Crash matrix"): one row per way a traced program can end, each run
 * through the real `viz record` CLI and untraced. For every row: the exit status (or death by a
 * signal) is the untraced one, the dump exists, the last function the program entered is the last
 * slice in it, and exactly the frames that were on the stack when the process died are flagged
 * unclosed. SIGKILL cannot be survived (nothing runs in a process after it): `viz record` must
 * say so in one line and write nothing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, readTrace, requireBuild, ROOT, runViz, SAMPLES, tempDir, type Run } from './record-helpers.js';

const CRASH = join(SAMPLES, 'crash');

let dir: string;
before(() => {
  requireBuild();
  dir = tempDir();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const env = (): NodeJS.ProcessEnv => {
  const e = { ...process.env };
  delete e.NODE_OPTIONS;
  return e;
};

function plain(nodeArgs: string[], sample: string, args: string[]): Run {
  const r = spawnSync(process.execPath, [...nodeArgs, join(CRASH, sample), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: env(),
  });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, signal: r.signal };
}

interface Row {
  title: string;
  sample: string;
  args?: string[];
  nodeArgs?: string[];
  status: number | null;
  signal: NodeJS.Signals | null;
  /** The last function entered before the process ended. */
  last: string;
  /** Frames open when it ended, outermost first (flagged unclosed in the dump). */
  unclosed: string[];
}

const ROWS: Row[] = [
  {
    title: 'normal exit',
    sample: 'normal-exit.js',
    status: 0,
    signal: null,
    last: 'finishLine',
    unclosed: [],
  },
  {
    title: 'process.exit(3) six calls deep',
    sample: 'exit-deep.js',
    status: 3,
    signal: null,
    last: 'exitDeep',
    unclosed: ['main', 'descend', 'descend', 'descend', 'descend', 'descend', 'descend', 'exitDeep'],
  },
  {
    title: 'uncaught exception',
    sample: 'uncaught.js',
    status: 1,
    signal: null,
    last: 'throwsHere',
    unclosed: [],
  },
  {
    title: 'unhandled rejection',
    sample: 'unhandled-rejection.js',
    status: 1,
    signal: null,
    last: 'rejectsLater',
    unclosed: [],
  },
  ...(['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig): Row => ({
    title: sig,
    sample: 'self-signal.js',
    args: [sig],
    status: null,
    signal: sig,
    last: 'killSelf',
    unclosed: ['main', 'killSelf'],
  })),
  {
    title: 'V8 out of memory (--max-old-space-size=32)',
    sample: 'oom.js',
    nodeArgs: ['--max-old-space-size=32'],
    status: null,
    signal: 'SIGABRT',
    last: 'growForever',
    unclosed: ['main', 'growForever'],
  },
  {
    title: 'process.abort()',
    sample: 'abort.js',
    status: null,
    signal: 'SIGABRT',
    last: 'abortHere',
    unclosed: ['main', 'abortHere'],
  },
  {
    title: 'native crash (SIGSEGV)',
    sample: 'segv.js',
    status: null,
    signal: 'SIGSEGV',
    last: 'crashHere',
    unclosed: ['main', 'crashHere'],
  },
];

const SUMMARY = /^viz record: ([\d,]+) events kept, .* -> (.+)$/m;

describe('viz record: crash matrix', function () {
  this.timeout(120000);

  for (const row of ROWS) {
    it(`${row.title}: same exit as untraced, the last call is in the dump, open frames flagged unclosed`, async () => {
      const nodeArgs = row.nodeArgs ?? [];
      const args = row.args ?? [];
      const untraced = plain(nodeArgs, row.sample, args);
      assert.deepEqual(
        { status: untraced.status, signal: untraced.signal },
        { status: row.status, signal: row.signal },
      );

      const out = join(dir, `${row.sample}-${args.join('-')}.vizdump`);
      const traced = runViz([
        '-o',
        out,
        '--',
        process.execPath,
        ...nodeArgs,
        join(CRASH, row.sample),
        ...args,
      ]);
      const why = `viz stderr:\n${traced.stderr}`;
      assert.equal(traced.status, untraced.status, `exit status; ${why}`);
      assert.equal(traced.signal, untraced.signal, `signal; ${why}`);
      assert.equal(traced.stdout, untraced.stdout);
      assert.equal(SUMMARY.exec(traced.stderr)?.[2], out, `no summary line; ${why}`);
      assert.ok(existsSync(out), `${out} was not written`);

      const trace = await readTrace(out);
      assert.ok(trace.calls.length > 0);
      assert.equal(trace.calls[trace.calls.length - 1]!.name, row.last, 'last function entered');
      const open = trace.calls.filter((c) => c.unclosed).map((c) => c.name);
      assert.deepEqual(open, row.unclosed, 'frames flagged unclosed');
    });
  }

  it('SIGKILL: nothing survives; viz record says the process was lost to SIGKILL and dies by it too', async () => {
    const untraced = await killWhenReady([join(CRASH, 'busy-until-killed.js')]);
    assert.equal(untraced.signal, 'SIGKILL');

    const out = join(dir, 'sigkill.vizdump');
    const traced = await killWhenReady([BIN, 'record', '-o', out, join(CRASH, 'busy-until-killed.js')]);
    assert.equal(traced.status, untraced.status, traced.stderr);
    assert.equal(traced.signal, untraced.signal, traced.stderr);
    assert.match(
      traced.stderr,
      /^viz record: the traced process \(pid \d+\) left no dump: it was killed by SIGKILL, which no process can catch/m,
    );
    assert.doesNotMatch(traced.stderr, /internal error|\n\s+at /);
    assert.ok(!existsSync(out), 'no output is written for a lost process');
  });
});

/** Starts `node argv`, waits for the program's `ready <pid>` line, SIGKILLs that pid, returns how the first process ended. */
function killWhenReady(argv: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, env: env() });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      const m = /^ready (\d+)$/m.exec(stdout);
      if (m && !killed) {
        killed = true;
        process.kill(Number(m[1]), 'SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ stdout, stderr, status, signal }));
  });
}
