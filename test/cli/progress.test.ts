import assert from 'node:assert/strict';
import { startProgress } from '../../src/cli/progress.js';

describe('progress bar', () => {
  it('is silent off a terminal; on a terminal it loads its module and draws on stderr', () => {
    const stderr = process.stderr as NodeJS.WriteStream & { isTTY: boolean };
    const wasTTY = stderr.isTTY;
    const ci = process.env.CI;
    const write = stderr.write.bind(stderr);
    let drawn = '';
    const run = (): void => {
      const bar = startProgress('reading', 100 << 20);
      bar.update(50 << 20);
      bar.stop();
    };
    delete process.env.CI;
    stderr.write = ((chunk: string | Uint8Array): boolean => {
      drawn += String(chunk);
      return true;
    }) as typeof stderr.write;
    try {
      stderr.isTTY = false;
      run();
      assert.equal(drawn, '');
      stderr.isTTY = true;
      run();
    } finally {
      stderr.write = write;
      stderr.isTTY = wasTTY;
      if (ci !== undefined) process.env.CI = ci;
    }
    assert.match(drawn, /reading \[.*\] \d+% \| \d+\/100 MB/);
  });
});
