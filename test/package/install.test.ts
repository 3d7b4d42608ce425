import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/fixtures.js';

// What a user gets from the registry: `npm pack` (which prebuilds the addon), then an install
// with install scripts blocked (npm 11's default for dependencies): no compiler runs, and
// `viz record` must still use the native recorder from `prebuilds/`.
describe('the published package', function () {
  const work = mkdtempSync(join(tmpdir(), 'viz-pack-'));
  let tarball = '';

  before(function () {
    // prepack builds the CLI and the prebuilds; run it on its own so pack's --json stays clean.
    execFileSync('npm', ['run', 'prepack'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    const out = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const info = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, info[0]!.filename);
    this.files = info[0]!.files.map((f) => f.path);
  });

  it('contains the prebuilt addon for linux-x64, the compiled CLI and the schemas', function () {
    const files = this.files as string[];
    assert.ok(
      files.some((f) => /^prebuilds\/linux-x64\/.*\.node$/.test(f)),
      'no prebuild in the tarball',
    );
    assert.ok(files.includes('bin/run.js'));
    assert.ok(files.some((f) => f.startsWith('dist/commands/record.js')));
    assert.ok(files.some((f) => f.startsWith('schemas/ring-dump/')));
    assert.ok(
      !files.some((f) => f.startsWith('test/') || f.startsWith('build/')),
      'tests or local builds packed',
    );
  });

  it('installs with install scripts blocked and records with the native recorder', function () {
    const app = join(work, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', version: '1.0.0', private: true }),
    );
    execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', tarball], {
      cwd: app,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    assert.ok(
      !readdirSync(join(app, 'node_modules', 'viz-trace')).includes('build'),
      'a local build exists: scripts ran',
    );
    writeFileSync(
      join(app, 'fib.js'),
      'function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\nconsole.log(fib(15));\n',
    );
    const r = spawnSync(join(app, 'node_modules', '.bin', 'viz'), ['record', '-o', 'fib.json', 'fib.js'], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, VIZ_DEBUG: '1' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '610\n');
    assert.doesNotMatch(r.stderr, /JavaScript recorder|native recorder unavailable/);
    assert.match(r.stderr, /events kept/);
  });
});
