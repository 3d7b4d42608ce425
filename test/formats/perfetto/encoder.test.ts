import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeValue, NotSimple, transcodeArgs } from '../../../src/formats/perfetto/args.js';
import { ProtoWriter, hash64 } from '../../../src/formats/perfetto/encoder.js';
import { perfettoSchema, toBigInt } from '../../../src/formats/perfetto/schema.js';

const perfettoRoot = perfettoSchema().root;
const TrackEvent = perfettoRoot.lookupType('perfetto.protos.TrackEvent');
const DebugAnnotation = perfettoRoot.lookupType('perfetto.protos.DebugAnnotation');
type Msg = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function decode(type: typeof TrackEvent, w: ProtoWriter): Msg {
  return type.toObject(type.decode(w.buf.subarray(0, w.pos)), { longs: String }) as Msg;
}

describe('Perfetto hand encoder decodes with protobufjs against the .proto', () => {
  it('varint, int64, fixed64, double and string fields', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.string({ maxLength: 300 }),
        fc.maxSafeNat(),
        (uuid, flow, counter, dbl, name, big) => {
          const w = new ProtoWriter(16);
          w.tag(11, 0);
          w.varintBig(uuid);
          w.fieldVarint(9, 1);
          w.fieldString(23, name);
          w.fieldInt64(30, counter);
          w.fieldFixed64(47, flow);
          w.fieldVarint(3, big);
          const m = decode(TrackEvent, w);
          assert.equal(toBigInt(m.track_uuid), uuid);
          assert.equal(m.name, name);
          assert.equal(Number(m.counter_value), counter);
          assert.equal(toBigInt(m.flow_ids[0]), flow);
          assert.equal(Number(m.category_iids[0]), big);
          const d = new ProtoWriter(8);
          d.fieldDouble(44, dbl);
          assert.equal(decode(TrackEvent, d).double_counter_value, dbl);
        },
      ),
    );
  });

  it('nested length-delimited fields of every size (length patched in place)', () => {
    for (const n of [0, 1, 126, 127, 128, 16383, 16384, 70000]) {
      const w = new ProtoWriter(4);
      const outer = w.begin(11); // dict_entries
      w.fieldString(10, 'k');
      const inner = w.begin(11);
      w.fieldString(10, 'x'.repeat(n));
      w.fieldString(6, 'v');
      w.end(inner);
      w.end(outer);
      const m = decode(DebugAnnotation, w);
      assert.equal(m.dict_entries[0].name, 'k');
      assert.equal(m.dict_entries[0].dict_entries[0].name.length, n);
      assert.equal(m.dict_entries[0].dict_entries[0].string_value, 'v');
    }
  });

  it("negative int64 as 10-byte two's complement", () => {
    const w = new ProtoWriter();
    w.fieldInt64(4, -5);
    assert.equal(w.pos, 11);
    assert.equal(decode(DebugAnnotation, w).int_value, '-5');
  });

  it('hash64 is stable and never 0', () => {
    assert.equal(hash64('a'), hash64('a'));
    assert.notEqual(hash64('a'), hash64('b'));
    assert.equal(hash64(''), 0xcbf29ce484222325n); // the FNV-1a offset basis
    assert.equal(hash64('a'), 0xaf63dc4c8601ec8cn); // FNV-1a 64 test vector
  });
});

describe('Perfetto schema', () => {
  it('schema.generated.ts is what npm run gen:perfetto makes from schemas/perfetto/*.proto', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['scripts/gen-perfetto.mjs', '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('Perfetto args transcoder', () => {
  const viaParse = (text: string): Buffer => {
    const w = new ProtoWriter(16);
    const names = new Map<string, number>();
    const parsed = JSON.parse(text) as Record<string, unknown>;
    for (const k in parsed) {
      const m = w.begin(4);
      if (!names.has(k)) names.set(k, names.size + 1);
      w.fieldVarint(1, names.get(k)!);
      encodeValue(w, parsed[k]);
      w.end(m);
    }
    return Buffer.from(w.buf.subarray(0, w.pos));
  };
  const viaTranscode = (text: string): Buffer => {
    const w = new ProtoWriter(16);
    const names = new Map<string, number>();
    transcodeArgs(w, text, (k) => {
      if (!names.has(k)) names.set(k, names.size + 1);
      return names.get(k)!;
    });
    return Buffer.from(w.buf.subarray(0, w.pos));
  };

  it('writes the same bytes as JSON.parse + encodeValue for any JSON object', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.boolean(), (obj, pretty) => {
        const text = JSON.stringify(obj, null, pretty ? 2 : undefined);
        // JSON.parse moves integer-like keys first and keeps the last of duplicate keys; the
        // transcoder keeps text order, so compare only texts where both orders agree.
        fc.pre(!/"(0|[1-9]\d*)":/.test(text));
        assert.deepEqual(viaTranscode(text), viaParse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes escapes and refuses what JSON.parse would refuse', () => {
    const text = '{"a\\"b":"x\\u00e9\\n","n":-0.5e3,"z":[true,false,null,{},[]]}';
    assert.deepEqual(viaTranscode(text), viaParse(text));
    for (const bad of [
      '{"a":01}',
      '{"a":1.}',
      '{"a":tru}',
      '{"a":1,}',
      '[1]',
      '{"a":1} x',
      '{"a":"unterminated}',
    ]) {
      assert.throws(
        () => viaTranscode(bad),
        (err: unknown) => err instanceof NotSimple || err instanceof SyntaxError,
        bad,
      );
    }
  });
});
