/**
 * The fast path from a folded file to a frame tree, for rendering large
 * folded files (a million lines) quickly: lines are parsed in place in the
 * decoded chunk (no string per line), and the frames a line shares with the
 * previous one (collapse tools write stacks sorted or depth first) are
 * matched against the previous line's nodes with a native comparison, so only the
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

/** `text.startsWith(name, pos)`, which V8 runs much more slowly when it matches. */
function sameAt(text: string, pos: number, name: string): boolean {
  // A slice is a cheap view for longer names; === then compares natively.
  return text.charCodeAt(pos) === name.charCodeAt(0) && text.slice(pos, pos + name.length) === name;
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

export async function loadFoldedTree(input: Input, diagnostics: Diagnostics): Promise<FrameTree> {
  const tree = new FrameTree();
  const names = tree.names;
  const root = tree.root;
  const decoder = new StringDecoder('utf8');
  const path: FrameNode[] = [];
  let diff = false;
  let lineNo = 0;
  let carry = '';

  const line = (text: string, a: number, b: number): void => {
    lineNo++;
    if (b > a && text.charCodeAt(b - 1) === 13) b--;
    if (b === a) return;
    const sp = text.lastIndexOf(' ', b - 1);
    if (sp <= a || !isCount(text, sp + 1, b)) {
      diagnostics.add('bad_folded_line', 'error', `${input.name}: line ${lineNo} is not "stack count"; skipped`);
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
    // Frames shared with the previous line.
    let pos = a;
    let k = 0;
    let done = false;
    while (k < path.length) {
      const name = names[path[k]!.name]!;
      const end = pos + name.length;
      if (end > stackEnd || !sameAt(text, pos, name)) break;
      if (end === stackEnd) {
        k++;
        done = true;
        break;
      }
      if (text.charCodeAt(end) !== 59) break;
      k++;
      pos = end + 1;
    }
    path.length = k;
    let node = k > 0 ? path[k - 1]! : root;
    if (!done) {
      for (;;) {
        let end = text.indexOf(';', pos);
        if (end < 0 || end > stackEnd) end = stackEnd;
        const id = tree.intern(text.slice(pos, end));
        let kids = node.children;
        if (kids === undefined) node.children = kids = new Map();
        let c = kids.get(id);
        if (c === undefined) kids.set(id, (c = newNode(id)));
        node = c;
        path.push(node);
        if (end === stackEnd) break;
        pos = end + 1;
      }
    }
    node.self += weight;
    root.total += weight;
    for (let i = 0; i < path.length; i++) path[i]!.total += weight;
    if (!Number.isNaN(before)) {
      node.self2 += before;
      root.total2 += before;
      for (let i = 0; i < path.length; i++) path[i]!.total2 += before;
    }
  };

  for await (const chunk of input.chunks()) {
    // Work on the decoder's flat string: a concatenation (carry + chunk) is a cons string that
    // makes every indexOf/startsWith on it several times slower.
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
  tree.diff = diff;
  tree.totalsValid = true;
  return tree;
}
