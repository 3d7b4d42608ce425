/**
 * Dense indexes (0, 1, 2, ...) for the slice names an analyser meets, in order of first
 * appearance. By the reader's `nameId` when it gives one: a typed-array load per call instead of
 * hashing the name in a `Map`, which was the costliest step of folding and of stats per call.
 * Several ids may name one name (each maps to the name's index); ids beyond `MAX_TABLED_ID` go
 * by the name, so a reader's large ids cannot grow the table.
 */
import { grown } from '../model/columns.js';

const MAX_TABLED_ID = 1 << 24;

export class NameIndex {
  /** Name of each index. */
  readonly names: string[] = [];
  private readonly byName = new Map<string, number>();
  /** Index + 1 by reader `nameId` (0: not seen yet). */
  private byNameId = new Int32Array(256);

  /** The name's index; a new name gets the next one (`names.length` before the call). */
  indexOf(name: string, nameId: number): number {
    if (nameId > 0 && nameId < this.byNameId.length) {
      const known = this.byNameId[nameId]!;
      if (known > 0) return known - 1;
    }
    return this.indexByName(name, nameId);
  }

  /** The index of a name already met, undefined otherwise. */
  find(name: string): number | undefined {
    return this.byName.get(name);
  }

  private indexByName(name: string, nameId: number): number {
    let index = this.byName.get(name);
    if (index === undefined) {
      index = this.names.length;
      this.names.push(name);
      this.byName.set(name, index);
    }
    if (nameId > 0 && nameId < MAX_TABLED_ID) {
      if (nameId >= this.byNameId.length)
        this.byNameId = grown(this.byNameId, Math.max(nameId + 1, this.byNameId.length * 2));
      this.byNameId[nameId] = index + 1;
    }
    return index;
  }
}
