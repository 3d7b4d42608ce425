/**
 * The dashcam under load (slow: `npm run test:soak`): a program traced for more than 60 s with a
 * small ring keeps a flat memory footprint, SIGUSR2 snapshots taken while it runs are readable,
 * and the final dump holds the newest events: the program's last call is the dump's last slice
 * and the overwritten count is exactly what the program produced minus what the ring keeps.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, readTrace, requireBuild, ROOT, SAMPLES, tempDir } from '../record/record-helpers.js';

const SECONDS = 62;
const RING = 65536;
const WARM_UP_S = 10;
/** Growth allowed after the warm-up. A ring that did not wrap would hold 16 bytes per event: GBs here. */
const RSS_BOUND_KB = 16 * 1024;
const SNAPSHOT_AT_S = [15, 25, 35, 45];

let dir: string;
before(() => {
  requireBuild();
  dir = tempDir();
});
after(() => rmSync(dir, { recursive: true, force: true }));

function rssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // the process has ended
  }
}

describe('viz record: dashcam under load', function () {
  this.timeout(300000);

  it(`${SECONDS} s with a ${RING}-event ring: flat RSS, readable SIGUSR2 snapshots, newest events kept`, async () => {
    const out = join(dir, 'dashcam.vizdump');
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = spawn(
      process.execPath,
      [
        BIN,
        'record',
        '--buffer-size',
        String(RING),
        '-o',
        out,
        join(SAMPLES, 'soak', 'dashcam.js'),
        String(SECONDS),
      ],
      { cwd: ROOT, env },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const ended = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });

    while (!/^ready \d+$/m.test(stdout)) {
      if (child.exitCode !== null) assert.fail(`ended before it was ready:\n${stderr}`);
      await sleep(50);
    }
    const pid = Number(/^ready (\d+)$/m.exec(stdout)![1]);

    // RSS every second while it runs; SIGUSR2 snapshots a few seconds apart.
    const samples: number[] = [];
    let snapshotsSent = 0;
    for (let s = 1; ; s++) {
      await sleep(1000);
      const kb = rssKb(pid);
      if (kb === undefined) break;
      samples.push(kb);
      if (SNAPSHOT_AT_S.includes(s)) {
        process.kill(pid, 'SIGUSR2');
        snapshotsSent++;
      }
    }
    assert.equal(await ended, 0, stderr);
    assert.ok(samples.length >= SECONDS - 2, `only ${samples.length} RSS samples`);

    const afterWarmUp = samples.slice(WARM_UP_S);
    const base = afterWarmUp[0]!;
    const peak = Math.max(...afterWarmUp);
    console.log(
      `      RSS: ${samples[0]} kB at 1 s, ${base} kB after the ${WARM_UP_S} s warm-up, peak ${peak} kB, ` +
        `last ${samples[samples.length - 1]} kB (${samples.length} samples)`,
    );
    assert.ok(
      peak - base <= RSS_BOUND_KB,
      `RSS grew by ${peak - base} kB after the warm-up: ${samples.join(' ')}`,
    );

    // The final dump: the newest RING events, the rest counted as overwritten, exactly.
    const produced = Number(/^events (\d+)$/m.exec(stdout)?.[1]);
    const m = /^viz record: ([\d,]+) events kept, ([\d,]+) overwritten, .* -> (.+)$/m.exec(stderr);
    assert.ok(m, stderr);
    const kept = Number(m[1]!.replace(/,/g, ''));
    const overwritten = Number(m[2]!.replace(/,/g, ''));
    console.log(
      `      events: ${produced.toLocaleString('en-US')} produced, ${kept} kept, ${overwritten} overwritten`,
    );
    assert.equal(kept, RING);
    assert.ok(overwritten > 0);
    assert.equal(kept + overwritten, produced);
    const trace = await readTrace(out);
    assert.equal(trace.records, RING);
    assert.equal(trace.overwritten, overwritten);
    assert.equal(
      trace.calls[trace.calls.length - 1]!.name,
      'finishDashcam',
      'the last call is the last slice',
    );

    // Every snapshot is readable and holds events.
    const listed = /^viz record: (\d+) SIGUSR2 snapshot dump\(s\): (.+)$/m.exec(stderr);
    assert.ok(listed, `no snapshots listed:\n${stderr}`);
    const snapshots = listed[2]!.split(', ');
    assert.equal(snapshots.length, snapshotsSent);
    for (const snap of snapshots) {
      const info = spawnSync(process.execPath, [BIN, 'info', snap], { cwd: ROOT, encoding: 'utf8', env });
      assert.equal(info.status, 0, `viz info ${snap}:\n${info.stderr}`);
      const events = Number(/^events:\s+(\d+)/m.exec(info.stdout)?.[1]);
      assert.ok(events > 0, `viz info ${snap}:\n${info.stdout}`);
    }
  });
});
