import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { instrument, type InstrumentOptions, type TransformResult } from './instrument.js';
import { TRANSFORM_VERSION } from './version.js';

let vizVersion: string | undefined;

/** The `version` of this package's package.json (found by walking up from this file). */
function packageVersion(): string {
  if (vizVersion !== undefined) return vizVersion;
  vizVersion = '0';
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = path.join(dir, 'package.json');
    try {
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'viz-trace') {
        vizVersion = String(pkg.version);
        break;
      }
    } catch {
      // not here
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return vizVersion;
}

/** The logging options as they affect the output ('' when none is on: the default key is unchanged). */
function logKey(log: InstrumentOptions['log']): string {
  if (!log) return '';
  const on = (['args', 'return', 'exceptions'] as const).filter((k) => log[k] === true);
  return on.length === 0 ? '' : `log:${on.join(',')}`;
}

/** sha-256 (hex) of everything the result depends on. */
export function cacheKey(source: string, options: InstrumentOptions): string {
  const h = createHash('sha256');
  const inputMap =
    options.inputMap == null
      ? ''
      : typeof options.inputMap === 'string'
        ? options.inputMap
        : JSON.stringify(options.inputMap);
  for (const part of [
    TRANSFORM_VERSION,
    packageVersion(),
    options.filename,
    options.sourceType,
    inputMap,
    options.only ? JSON.stringify(options.only) : '',
    logKey(options.log),
    source,
  ]) {
    h.update(`${part.length}:`);
    h.update(part);
  }
  return h.digest('hex');
}

/**
 * `instrument` with an on-disk cache in `cacheDir` (created when missing):
 * `<cacheDir>/<key[0..2]>/<key>.json`, written to a temporary file and renamed
 * into place, so concurrent processes never read a partial entry. An unreadable
 * entry is recomputed; a cache that cannot be written is ignored.
 */
export function instrumentCached(
  source: string,
  options: InstrumentOptions,
  cacheDir: string,
): TransformResult {
  const key = cacheKey(source, options);
  const dir = path.join(cacheDir, key.slice(0, 2));
  const file = path.join(dir, `${key}.json`);
  try {
    const hit = JSON.parse(fs.readFileSync(file, 'utf8')) as TransformResult;
    if (typeof hit.code === 'string' && Array.isArray(hit.frames))
      return { ...hit, skipped: hit.skipped ?? [] };
  } catch {
    // miss or damaged entry
  }
  const result = instrument(source, options);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(tmp, JSON.stringify(result));
    fs.renameSync(tmp, file);
  } catch {
    // read-only or full disk: the result is still good
    try {
      fs.unlinkSync(tmp);
    } catch {
      // nothing was written
    }
  }
  return result;
}
