import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './fixtures.js';

/**
 * Compares `actual` with the golden file `test/golden/<name>`. Goldens change
 * only through `npm run golden:update` (VIZ_UPDATE_GOLDEN=1), and the diff is reviewed.
 */
export function assertGolden(name: string, actual: string): void {
  const path = join(ROOT, 'test', 'golden', name);
  if (process.env.VIZ_UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  assert.ok(existsSync(path), `missing golden file ${name}: run npm run golden:update and review the diff`);
  assert.equal(
    actual,
    readFileSync(path, 'utf8'),
    `output differs from golden ${name} (npm run golden:update to accept)`,
  );
}
