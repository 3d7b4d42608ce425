import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  instrument,
  instrumentCached,
  cacheKey,
  TRANSFORM_VERSION,
} from '../../../src/record/transform/index.js';

describe('record/transform: on-disk cache', () => {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'viz-tcache-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const src = 'function f() { return 1 }\nmodule.exports = f;\n';
  const opts = { filename: '/p/f.js', sourceType: 'script' } as const;

  it('stores one entry named by the key, with no temporary file left, and serves it back', () => {
    const first = instrumentCached(src, opts, dir);
    assert.deepEqual(first, instrument(src, opts));
    const key = cacheKey(src, opts);
    const entry = path.join(dir, key.slice(0, 2), `${key}.json`);
    assert.ok(fs.existsSync(entry));
    assert.deepEqual(fs.readdirSync(path.dirname(entry)), [`${key}.json`]);
    // a hit is read from disk: a marked entry comes back as stored
    const stored = JSON.parse(fs.readFileSync(entry, 'utf8')) as { code: string };
    stored.code += '/*from cache*/';
    fs.writeFileSync(entry, JSON.stringify(stored));
    assert.ok(instrumentCached(src, opts, dir).code.endsWith('/*from cache*/'));
  });

  it('a damaged entry is recomputed', () => {
    const key = cacheKey(src, opts);
    fs.mkdirSync(path.join(dir, key.slice(0, 2)), { recursive: true });
    fs.writeFileSync(path.join(dir, key.slice(0, 2), `${key}.json`), '{"code": 12');
    assert.equal(instrumentCached(src, opts, dir).code, instrument(src, opts).code);
  });

  it('the key depends on the source, the file name, the module kind, the input map and the transform version', () => {
    assert.match(cacheKey(src, opts), /^[0-9a-f]{64}$/);
    const keys = new Set([
      cacheKey(src, opts),
      cacheKey(src + ' ', opts),
      cacheKey(src, { ...opts, filename: '/p/g.js' }),
      cacheKey(src, { ...opts, sourceType: 'module' }),
      cacheKey(src, { ...opts, inputMap: { version: 3, sources: [], names: [], mappings: '' } }),
      cacheKey(src, { ...opts, log: { args: true } }),
      cacheKey(src, { ...opts, log: { return: true } }),
      cacheKey(src, { ...opts, log: { exceptions: true } }),
      cacheKey(src, { ...opts, log: { args: true, return: true, exceptions: true } }),
    ]);
    assert.equal(keys.size, 9);
    // no logging asked for: the key of the default output
    assert.equal(cacheKey(src, opts), cacheKey(src, { ...opts, log: {} }));
    assert.equal(cacheKey(src, opts), cacheKey(src, { ...opts, log: { args: false } }));
    assert.equal(cacheKey(src, opts), cacheKey(src, { ...opts }));
    assert.equal(typeof TRANSFORM_VERSION, 'string');
  });
});
