import assert from 'node:assert/strict';
import { NameIndex } from '../../src/analyze/names.js';

describe('NameIndex', () => {
  it('gives dense indexes in order of first appearance, by reader id or by name alike', () => {
    const ix = new NameIndex();
    assert.equal(ix.indexOf('a', 5), 0);
    assert.equal(ix.indexOf('b', 0), 1); // no reader id
    assert.equal(ix.indexOf('a', 5), 0);
    assert.equal(ix.indexOf('a', 0), 0);
    assert.equal(ix.indexOf('a', 9), 0); // a second id for the same name
    assert.equal(ix.indexOf('a', 9), 0);
    assert.equal(ix.indexOf('c', 1000), 2); // the id table grows
    assert.equal(ix.indexOf('d', 2 ** 31 - 1), 3); // too large to table: by name
    assert.equal(ix.indexOf('d', 2 ** 31 - 1), 3);
    assert.deepEqual(ix.names, ['a', 'b', 'c', 'd']);
    assert.equal(ix.find('c'), 2);
    assert.equal(ix.find('e'), undefined);
  });
});
