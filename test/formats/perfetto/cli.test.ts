import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePerfetto } from '../../../src/formats/perfetto/writer.js';
import { readPerfetto } from '../../../src/formats/perfetto/reader.js';
import { openInput } from '../../../src/io/input.js';
import { Diagnostics } from '../../../src/model/diagnostics.js';
import { makeEvent, type TraceEvent } from '../../../src/model/event.js';
import { emptyMeta, type TraceSource } from '../../../src/model/source.js';
import { viz } from '../../support/cli.js';
import { FIXTURES, readAll } from '../../support/fixtures.js';
import { splitRecords, validatePerfetto } from '../../support/perfetto-validator.js';
import { perfettoSchema } from '../../../src/formats/perfetto/schema.js';
import { memoryOutput, tmp } from './helpers.js';

const TracePacketType = perfettoSchema().packet;

const FIB = join(FIXTURES, 'viztracer-generated', 'fib15.json');

describe('viz convert / info with Perfetto (built CLI)', () => {
  it('--to perfetto -o out.pftrace, -o out.pftrace alone, -o out.perfetto-trace, and back to chrome', () => {
    const a = join(tmp, 'cli-a.pftrace');
    const b = join(tmp, 'cli-b.pftrace');
    const c = join(tmp, 'cli-c.perfetto-trace');
    for (const args of [
      ['convert', FIB, '--to', 'perfetto', '-o', a],
      ['convert', FIB, '-o', b],
      ['convert', FIB, '--to', 'pftrace', '-o', c],
    ]) {
      const r = viz(args);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /chrome -> perfetto/);
    }
    assert.deepEqual(readFileSync(a), readFileSync(b));
    assert.deepEqual(readFileSync(a), readFileSync(c));
    assert.deepEqual(validatePerfetto(readFileSync(a)).violations, []);
    const back = join(tmp, 'cli-back.json');
    const r = viz(['convert', a, '--to', 'chrome', '-o', back]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /perfetto -> chrome/);
    const info = viz(['info', a]);
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, /format:\s+perfetto/);
  });

  it('--no-compress writes plain records; the default deflates them; both read back the same', () => {
    const plain = join(tmp, 'plain.pftrace');
    const packed = join(tmp, 'packed.pftrace');
    for (const args of [
      ['convert', FIB, '-o', plain, '--no-compress'],
      ['convert', FIB, '-o', packed],
    ]) {
      const r = viz(args, { env: { VIZ_PERFETTO_COMPRESS: undefined } });
      assert.equal(r.status, 0, r.stderr);
    }
    const containers = (path: string): number =>
      splitRecords(readFileSync(path)).filter((r) => {
        const pkt = TracePacketType.toObject(TracePacketType.decode(r.body)) as {
          compressed_packets?: unknown;
        };
        return pkt.compressed_packets !== undefined;
      }).length;
    assert.equal(containers(plain), 0);
    assert.ok(containers(packed) > 0);
    assert.ok(readFileSync(plain).length > 2 * readFileSync(packed).length);
    assert.deepEqual(validatePerfetto(readFileSync(plain)).violations, []);
    const backs = [plain, packed].map((p) => {
      const out = `${p}.json`;
      const r = viz(['convert', p, '--to', 'chrome', '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      return readFileSync(out, 'utf8');
    });
    assert.equal(backs[0], backs[1]);
  });

  it('refuses to write Perfetto to a terminal only, not to a pipe', () => {
    const r = viz(['convert', FIB, '--to', 'perfetto']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.length > 0, true);
  });

  it('garbage named .pftrace fails with one line naming the byte offset', () => {
    const p = join(tmp, 'garbage.pftrace');
    writeFileSync(p, Buffer.concat([Buffer.from([0x0a, 0x02, 0x50, 0x01]), Buffer.from('zzzz')]));
    const r = viz(['convert', p, '--to', 'chrome', '-o', join(tmp, 'g.json')]);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /^viz: .*garbage\.pftrace: byte 4: not a Perfetto trace record/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.ok(!existsSync(join(tmp, 'g.json')));
  });
});

describe('Perfetto writer: bounded interning', () => {
  it("clears and rebuilds a sequence's incremental state after maxInterned entries", async () => {
    const events: TraceEvent[] = [];
    for (let i = 0; i < 50; i++) {
      events.push(
        makeEvent({
          ph: 'B',
          name: `f${i}`,
          cat: `c${i % 3}`,
          ts: i * 10,
          pid: 1,
          tid: 1,
          args: JSON.stringify({ [`k${i}`]: i }),
        }),
      );
      events.push(makeEvent({ ph: 'E', ts: i * 10 + 5, pid: 1, tid: 1 }));
    }
    const source: TraceSource = {
      meta: emptyMeta('test'),
      diagnostics: new Diagnostics(),
      bytesRead: 0,
      async *batches() {
        yield events;
      },
    };
    const mem = memoryOutput();
    await writePerfetto(source, mem.out, { maxInterned: 8, compress: false });
    const bytes = mem.bytes();
    assert.deepEqual(validatePerfetto(bytes).violations, []);
    // Several clears: count packets with SEQ_INCREMENTAL_STATE_CLEARED set (flags 1 or 3).
    const clears = splitRecords(bytes).filter((r) => {
      const pkt = TracePacketType.toObject(TracePacketType.decode(r.body)) as { sequence_flags?: number };
      return ((pkt.sequence_flags ?? 0) & 1) === 1;
    }).length;
    assert.ok(clears >= 10, `only ${clears} clears`);
    const p = join(tmp, 'interning.pftrace');
    writeFileSync(p, bytes);
    const back = await readAll(readPerfetto(await openInput(p)));
    assert.deepEqual(
      back.filter((e) => e.ph === 'B').map((e) => `${e.name} ${e.cat} ${e.args}`),
      events.filter((e) => e.ph === 'B').map((e) => `${e.name} ${e.cat} ${e.args}`),
    );
  });
});
