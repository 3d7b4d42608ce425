// `npm install` hook: use a matching prebuild, else build the addon from source with
// node-gyp-build. Node's own headers are used when they sit beside the running node
// (`<prefix>/include/node`, as in distribution packages and the official tarballs), so the
// build needs no download. A failed build does not fail the install: viz then records with
// its JavaScript fallback and says so once when recording starts.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const prefix = resolve(dirname(process.execPath), '..');
if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = prefix;
}
// node-gyp-build checks an existing build with its `node-gyp-build-test` bin, found on PATH.
const localBin = join(root, 'node_modules', '.bin');
if (existsSync(localBin))
  env.PATH = `${localBin}${process.platform === 'win32' ? ';' : ':'}${env.PATH ?? ''}`;
const bin = createRequire(import.meta.url).resolve('node-gyp-build/bin.js');
const r = spawnSync(process.execPath, [bin], { cwd: root, env, stdio: 'inherit' });
if (r.status !== 0) {
  console.warn(
    'viz: could not build the native recorder; `viz record` will use the slower JavaScript recorder.',
  );
}
