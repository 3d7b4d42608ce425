/**
 * The fast path from a folded file to a frame tree, for rendering large
 * folded files (a million lines) quickly: lines are parsed in place in the
 * decoded chunk (no string per line); the frames a line shares with the
 * previous one (collapse tools write stacks sorted or depth first) are found
 * with a few native prefix comparisons; nodes live in typed arrays (no
 * garbage-collector work), and only the nodes wide enough to draw become
 * frame-tree objects, so only the
 * new frames are sliced and looked up. Totals are kept along the path, so
 * rendering needs no extra pass. Same line rules as `parseFoldedLine`.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Input } from '../../io/input.js';
import type { Diagnostics } from '../../model/diagnostics.js';
import { FrameTree, newNode, type FrameNode } from './tree.js';

function isCount(text: string, from: number, to: number): boolean {
  if (to <= from) return false;
  let dot = false;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 && !dot && i > from && i < to - 1) dot = true;
    else if (c < 48 || c > 57) return false;
  }
  return true;
}

function count(text: string, from: number, to: number): number {
  if (to - from < 15) {
    let n = 0;
    for (let i = from; i < to; i++) {
      const c = text.charCodeAt(i);
      if (c === 46) return Number(text.slice(from, to));
      n = n * 10 + (c - 48);
    }
    return n;
  }
  return Number(text.slice(from, to));
}

const INITIAL_NODES = 1 << 11;

/**
 * A trie in typed arrays (no object per node, so no garbage-collector work for millions of
 * nodes): children found through an open-addressing table keyed by (parent, name).
 */
export class CompactTrie {
  size = 1; // node 0 is the root
  // Small to start, doubling as needed: a probe of the table is a random access, and a table sized
  // to the stacks there are (thousands, usually) stays in the CPU's cache.
  parent: Int32Array = new Int32Array(INITIAL_NODES);
  name: Int32Array = new Int32Array(INITIAL_NODES);
  firstChild: Int32Array = new Int32Array(INITIAL_NODES).fill(-1);
  nextSibling: Int32Array = new Int32Array(INITIAL_NODES).fill(-1);
  self: Float64Array = new Float64Array(INITIAL_NODES);
  self2: Float64Array = new Float64Array(INITIAL_NODES);
  total: Float64Array = new Float64Array(INITIAL_NODES);
  total2: Float64Array = new Float64Array(INITIAL_NODES);
  private table: Int32Array = new Int32Array(2 * INITIAL_NODES); // node index + 1; 0 = empty
  private mask = 2 * INITIAL_NODES - 1;
  diff = false;

  constructor(readonly names: string[] = []) {
    this.name[0] = -1;
  }

  private slot(parent: number, name: number): number {
    return (Math.imul(parent, 0x9e3779b1) ^ Math.imul(name + 1, 0x85ebca6b)) & this.mask;
  }

  child(parent: number, name: number): number {
    let h = this.slot(parent, name);
    for (;;) {
      const e = this.table[h]!;
      if (e === 0) break;
      const n = e - 1;
      if (this.parent[n] === parent && this.name[n] === name) return n;
      h = (h + 1) & this.mask;
    }
    const n = this.size++;
    if (n >= this.parent.length) this.growNodes();
    this.parent[n] = parent;
    this.name[n] = name;
    this.nextSibling[n] = this.firstChild[parent]!;
    this.firstChild[parent] = n;
    this.table[h] = n + 1;
    if (this.size * 2 > this.table.length) this.growTable();
    return n;
  }

  private growNodes(): void {
    const cap = this.parent.length * 2;
    const grow32 = (a: Int32Array, fill: number): Int32Array => {
      const b = new Int32Array(cap);
      if (fill !== 0) b.fill(fill, a.length);
      b.set(a);
      return b;
    };
    const grow64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.parent = grow32(this.parent, 0);
    this.name = grow32(this.name, 0);
    this.firstChild = grow32(this.firstChild, -1);
    this.nextSibling = grow32(this.nextSibling, -1);
    this.self = grow64(this.self);
    this.self2 = grow64(this.self2);
    this.total = grow64(this.total);
    this.total2 = grow64(this.total2);
  }

  private growTable(): void {
    this.table = new Int32Array(this.table.length * 2);
    this.mask = this.table.length - 1;
    for (let n = 1; n < this.size; n++) {
      let h = this.slot(this.parent[n]!, this.name[n]!);
      while (this.table[h] !== 0) h = (h + 1) & this.mask;
      this.table[h] = n + 1;
    }
  }

  /**
   * The frame tree, without the subtrees of nodes whose total is under `minTotal` (0: all of
   * it). Totals and positions stay exact: narrow nodes themselves are kept, only their
   * descendants (narrower still) are left out.
   */
  toFrameTree(minTotal = 0): FrameTree {
    const tree = new FrameTree();
    for (let i = 0; i < this.names.length; i++) tree.intern(this.names[i]!);
    tree.diff = this.diff;
    const root = tree.root;
    root.self = this.self[0]!;
    root.self2 = this.self2[0]!;
    root.total = this.total[0]!;
    root.total2 = this.total2[0]!;
    const work: Array<[number, FrameNode]> = [[0, root]];
    while (work.length > 0) {
      const [n, node] = work.pop()!;
      for (let c = this.firstChild[n]!; c >= 0; c = this.nextSibling[c]!) {
        const f = newNode(this.name[c]!);
        f.self = this.self[c]!;
        f.self2 = this.self2[c]!;
        f.total = this.total[c]!;
        f.total2 = this.total2[c]!;
        (node.children ??= new Map()).set(f.name, f);
        // A narrow child is kept (its siblings' positions depend on it) but not its subtree.
        if (minTotal === 0 || f.total >= minTotal) work.push([c, f]);
      }
    }
    tree.totalsValid = true;
    return tree;
  }
}

export async function loadFoldedTrie(input: Input, diagnostics: Diagnostics): Promise<CompactTrie> {
  const names: string[] = [];
  const ids = new Map<string, number>();
  const intern = (s: string): number => {
    let id = ids.get(s);
    if (id === undefined) {
      id = names.length;
      names.push(s);
      ids.set(s, id);
    }
    return id;
  };
  const trie = new CompactTrie(names);
  const decoder = new StringDecoder('utf8');
  let path = new Int32Array(256);
  /** End of each frame of the previous line, relative to the line's start. */
  let ends = new Int32Array(256);
  let prevText = '';
  let prevA = 0;
  let depth = 0;
  let diff = false;
  let lineNo = 0;
  let carry = '';

  const line = (text: string, a: number, b: number): void => {
    lineNo++;
    if (b > a && text.charCodeAt(b - 1) === 13) b--;
    if (b === a) return;
    const sp = text.lastIndexOf(' ', b - 1);
    if (sp <= a || !isCount(text, sp + 1, b)) {
      diagnostics.add(
        'bad_folded_line',
        'error',
        `${input.name}: line ${lineNo} is not "stack count"; skipped`,
      );
      return;
    }
    const weight = count(text, sp + 1, b);
    let stackEnd = sp;
    let before = Number.NaN;
    const sp2 = text.lastIndexOf(' ', sp - 1);
    if (sp2 > a && isCount(text, sp2 + 1, sp)) {
      before = count(text, sp2 + 1, sp);
      stackEnd = sp2;
      diff = true;
    }
    // Frames shared with the previous line: the largest k whose first k frames equal the previous
    // line's, tried from the deepest (the usual case in sorted or depth-first input), each probe
    // one native comparison of the two prefixes.
    const matches = (k: number): boolean => {
      if (k === 0) return true;
      const len = ends[k - 1]!;
      const at = a + len;
      if (at > stackEnd || (at < stackEnd && text.charCodeAt(at) !== 59)) return false;
      return text.slice(a, at) === prevText.slice(prevA, prevA + len);
    };
    let k = depth;
    if (!matches(k)) {
      let lo = 0;
      let hi = k - 1;
      if (hi >= 0 && matches(hi)) lo = hi;
      else {
        hi--;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (matches(mid)) lo = mid;
          else hi = mid - 1;
        }
      }
      k = lo;
    }
    let pos = k > 0 ? a + ends[k - 1]! + 1 : a;
    const done = k > 0 && a + ends[k - 1]! === stackEnd;
    depth = k;
    let node = k > 0 ? path[k - 1]! : 0;
    if (!done) {
      for (;;) {
        let end = text.indexOf(';', pos);
        if (end < 0 || end > stackEnd) end = stackEnd;
        node = trie.child(node, intern(text.slice(pos, end)));
        if (depth === path.length) {
          const grown = new Int32Array(path.length * 2);
          grown.set(path);
          path = grown;
          const grownEnds = new Int32Array(ends.length * 2);
          grownEnds.set(ends);
          ends = grownEnds;
        }
        ends[depth] = end - a;
        path[depth++] = node;
        if (end === stackEnd) break;
        pos = end + 1;
      }
    }
    prevText = text;
    prevA = a;
    // Totals kept along the path, so rendering needs no pass over the whole tree.
    const self = trie.self;
    const total = trie.total;
    self[node]! += weight;
    total[0]! += weight;
    for (let i = 0; i < depth; i++) total[path[i]!]! += weight;
    if (!Number.isNaN(before)) {
      trie.self2[node]! += before;
      trie.total2[0]! += before;
      for (let i = 0; i < depth; i++) trie.total2[path[i]!]! += before;
    }
  };

  for await (const chunk of input.chunks()) {
    // Work on the decoder's flat string: a concatenation (carry + chunk) is a cons string that
    // makes every indexOf on it slower.
    const text = decoder.write(chunk);
    let start = 0;
    if (carry !== '') {
      const nl = text.indexOf('\n');
      if (nl < 0) {
        carry += text;
        continue;
      }
      const first = carry + text.slice(0, nl);
      line(first, 0, first.length);
      start = nl + 1;
      carry = '';
    }
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      line(text, start, nl);
      start = nl + 1;
    }
    carry = text.slice(start);
  }
  carry += decoder.end();
  if (carry !== '') line(carry, 0, carry.length);
  trie.diff = diff;
  return trie;
}

/** The whole folded file as a frame tree. */
export async function loadFoldedTree(input: Input, diagnostics: Diagnostics): Promise<FrameTree> {
  return (await loadFoldedTrie(input, diagnostics)).toFrameTree(0);
}
