import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { stringifyJson } from '../../src/model/json.js';

describe('stringifyJson', () => {
  it('equals JSON.stringify on JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => stringifyJson(v) === JSON.stringify(v)),
      { seed: 7, numRuns: 500 },
    );
  });

  it('writes values nested 200,000 deep, which JSON.stringify cannot', () => {
    const depth = 200_000;
    const text = '['.repeat(depth) + '{"a":[1,"x",null]}' + ']'.repeat(depth);
    const value: unknown = JSON.parse(text);
    assert.throws(() => JSON.stringify(value), RangeError);
    assert.equal(stringifyJson(value), text);
    const obj = JSON.parse('{"k":'.repeat(depth) + 'true' + '}'.repeat(depth)) as unknown;
    assert.equal(stringifyJson(obj), '{"k":'.repeat(depth) + 'true' + '}'.repeat(depth));
  });
});
