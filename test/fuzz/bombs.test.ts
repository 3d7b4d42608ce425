/**
 * Gzip bombs: a few hundred KB that decompress to hundreds of MB. Reading them streams in bounded
 * memory (the process's peak RSS grows by far less than the content), and a single value larger
 * than the reader's limit stops the reading with a data-loss diagnostic instead of buffering it
 * (or dying on V8's string length limit).
 */
import { strict as assert } from 'node:assert';
import { gzipSync } from 'node:zlib';
import { FuzzRunner } from './harness.js';

const MiB = 1 << 20;
/** Concatenated gzip members (gunzip reads them as one stream): big content, cheap to build. */
function bomb(head: string, filler: string, fillerMiB: number, tail: string): Buffer {
  const member = gzipSync(Buffer.alloc(16 * MiB, filler), { level: 9 });
  const parts = [gzipSync(head)];
  for (let i = 0; i < fillerMiB / 16; i++) parts.push(member);
  parts.push(gzipSync(tail));
  return Buffer.concat(parts);
}

const peakRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

describe('fuzz: gzip bombs', function () {
  this.timeout(300_000);
  const runner = new FuzzRunner({ timeoutMs: 240_000, heapMb: 256 });
  // The default limit is 64 MiB; the same code path at a smaller size keeps the test quick.
  const limited = new FuzzRunner({ timeoutMs: 240_000, heapMb: 256, env: { VIZ_MAX_VALUE_MB: '8' } });
  after(async () => {
    await runner.close();
    await limited.close();
  });

  const event = '{"ph":"i","name":"x","ts":1,"pid":1,"tid":1,"s":"t"}';

  it('256 MiB of whitespace between two events: both read, memory stays flat', async () => {
    const input = bomb(`[${event},`, ' ', 256, `${event}]`);
    assert.ok(input.length < 2 * MiB);
    const before = peakRssMiB();
    const v = await runner.check('read', 'blank.json.gz', input, 'whitespace bomb');
    assert.equal(v.outcome, 'ok');
    assert.equal(v.outcome === 'ok' && v.events, 2);
    const grew = peakRssMiB() - before;
    assert.ok(grew < 200, `peak RSS grew by ${grew.toFixed(0)} MiB`);
  });

  for (const pipeline of ['info', 'chrome'] as const) {
    it(`a 32 MiB string (limit set to 8 MiB): ${pipeline} keeps the events before it and reports oversized_value`, async () => {
      const input = bomb(`[${event},{"ph":"i","ts":2,"pid":1,"tid":1,"name":"`, 'a', 32, '"}]');
      const v = await limited.check(pipeline, 'long-string.json.gz', input, 'string bomb');
      assert.equal(v.outcome, 'ok', JSON.stringify(v).slice(0, 300));
      assert.ok(v.outcome === 'ok' && v.diagnostics?.includes('oversized_value'), JSON.stringify(v));
      assert.equal(v.outcome === 'ok' && v.events, 1);
    });
  }

  it('many events from a small file: counted in bounded memory', async () => {
    // 16 MiB members of back-to-back events: ~650,000 events from a few hundred KB.
    const one = `${event},`;
    const member = gzipSync(Buffer.from(one.repeat(Math.floor((16 * MiB) / one.length))), { level: 9 });
    const input = Buffer.concat([gzipSync('['), member, member, gzipSync(`${event}]`)]);
    const before = peakRssMiB();
    const v = await runner.check('info', 'many.json.gz', input, 'event bomb');
    assert.equal(v.outcome, 'ok');
    assert.ok(v.outcome === 'ok' && (v.events ?? 0) > 600_000, JSON.stringify(v));
    const grew = peakRssMiB() - before;
    assert.ok(grew < 300, `peak RSS grew by ${grew.toFixed(0)} MiB`);
  });
});
