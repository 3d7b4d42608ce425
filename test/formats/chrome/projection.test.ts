import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readChrome } from '../../../src/formats/chrome/reader.js';
import { openInput } from '../../../src/io/input.js';
import { VizError } from '../../../src/model/errors.js';
import { readPath, traceFixtures } from '../../support/fixtures.js';

// ReadOptions: a consumer that needs no categories and only some args gets the same events with
// those fields left empty; the skipped text is still checked.
describe('Chrome reader: fields a consumer does not need', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'viz-projection-'));

  for (const fx of traceFixtures()) {
    it(`${fx.name}: same events, args only where asked, no categories`, async () => {
      const full = await readPath(fx.path, (i) => readChrome(i));
      const asked: Array<[string, string]> = [];
      const lean = await readPath(fx.path, (i) =>
        readChrome(i, {
          categoriesNeeded: false,
          argsNeeded: (ph, name) => {
            asked.push([ph, name]);
            return ph === 'M';
          },
        }),
      );
      assert.equal(lean.events.length, full.events.length);
      assert.equal(lean.source.meta.baseUs, full.source.meta.baseUs);
      assert.deepEqual(lean.source.diagnostics.list(), full.source.diagnostics.list());
      let withArgs = 0;
      full.events.forEach((f, i) => {
        const l = lean.events[i]!;
        assert.equal(l.cat, '');
        assert.equal(l.args, f.ph === 'M' ? f.args : '');
        if (f.args !== '') withArgs++;
        assert.deepEqual({ ...l, cat: f.cat, args: f.args }, f);
      });
      // Asked once per event that has args, with its phase and name.
      assert.equal(asked.length, withArgs);
    });
  }

  it('still rejects malformed args it does not copy, naming the byte', async () => {
    const text = '[{"ph":"X","name":"a","ts":1,"dur":1,"args":{"k":tru}}]';
    const path = join(tmp, 'bad-args.json');
    writeFileSync(path, text);
    await assert.rejects(
      readPath(path, (i) => readChrome(i, { argsNeeded: () => false, categoriesNeeded: false })),
      (err: unknown) => err instanceof VizError && /byte \d+/.test(err.message),
    );
  });

  it('still rejects a malformed category it does not keep', async () => {
    const path = join(tmp, 'bad-cat.json');
    writeFileSync(path, '[{"ph":"X","name":"a","cat":"x\\q","ts":1,"dur":1}]');
    const input = await openInput(path);
    await assert.rejects(
      (async () => {
        for await (const _ of readChrome(input, { categoriesNeeded: false }).batches());
      })(),
      VizError,
    );
  });
});
