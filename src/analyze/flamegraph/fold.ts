/**
 * Folding: per-thread call stacks from the shared nesting logic (`SliceNester`
 * via `walkTrace`), weighted by self time in integer nanoseconds. A slice's self
 * time is its duration minus its children's; the nester clips children to their
 * parents, so it is never negative (a defensive clamp counts `negative_self`
 * should that ever fail).
 */
import { VizError } from '../../model/errors.js';
import type { EndReason, OpenSlice, ThreadStack } from '../../model/nesting.js';
import { threadKey, type TraceEvent } from '../../model/event.js';
import {
  selectsThread,
  threadLabel,
  walkTrace,
  ThreadNames,
  type AnalysisHandler,
  type ThreadSelection,
  type TraceInput,
  type WalkOptions,
  type WalkResult,
} from '../walk.js';
import {
  FrameTree,
  child,
  mergeInto,
  newNode,
  shapeTree,
  type FrameNode,
  type ShapeOptions,
} from './tree.js';
import { CompactTrie } from './folded-load.js';
import { NameIndex } from '../names.js';

interface ThreadFold {
  th: ThreadStack;
  /** Trie node of each open slice by depth (index 0: the thread's root). */
  nodes: number[];
  /** Summed durations of each open slice's finished children, by depth. */
  childSums: number[];
}

/** A `SliceHandler` that builds one frame tree per thread. */
export class Folder implements AnalysisHandler {
  readonly names = new ThreadNames();
  readonly categoriesNeeded = false;
  /** Only thread and process names (`M` events) are read from args. */
  readonly argsWanted = 'metadata';
  readonly threads = new Map<ThreadStack, ThreadFold>();
  /** Slices whose children summed to more than their duration (should not happen after clipping). */
  negativeSelf = 0;
  private last: ThreadFold | undefined;
  /** Frame name indexes: the trie's name ids (its `names` is this index's list). */
  private readonly frames = new NameIndex();
  /**
   * Every thread's stacks in one typed-array trie: a call costs its name's index (`frames`) and one
   * probe of the trie's table. Each thread's root is a child of the trie's root under
   * a name id of its own (negative, never a frame's).
   */
  private readonly trie = new CompactTrie(this.frames.names);

  private state(th: ThreadStack): ThreadFold {
    if (this.last?.th === th) return this.last;
    let s = this.threads.get(th);
    if (!s) {
      s = { th, nodes: [this.trie.child(0, -2 - this.threads.size)], childSums: [0] };
      this.threads.set(th, s);
    }
    this.last = s;
    return s;
  }

  enter(slice: OpenSlice): void {
    const s = this.state(slice.thread);
    const d = slice.depth;
    s.nodes[d + 1] = this.trie.child(s.nodes[d]!, this.frames.indexOf(slice.name, slice.nameId));
    s.childSums[d + 1] = 0;
  }

  other(ev: TraceEvent): void {
    if (ev.ph === 'M') this.names.note(ev);
  }

  exit(slice: OpenSlice, endTs: number, _reason: EndReason): void {
    const s = this.state(slice.thread);
    const d = slice.depth + 1;
    const dur = endTs > slice.ts ? endTs - slice.ts : 0;
    let self = dur - s.childSums[d]!;
    if (self < 0) {
      this.negativeSelf++;
      self = 0;
    }
    this.trie.self[s.nodes[d]!]! += self;
    s.childSums[d - 1]! += dur;
  }

  /** Each thread's frame tree (names in `names`), built from the trie. */
  roots(names: FrameTree): Array<{ th: ThreadStack; root: FrameNode }> {
    const t = this.trie;
    const nodes = new Array<FrameNode>(t.size);
    const ids = t.names.map((n) => names.intern(n));
    // Parents are created before their children: one pass in creation order (node 0, the trie's
    // root, has the threads' roots as children).
    for (let n = 1; n < t.size; n++) {
      const p = t.parent[n]!;
      const node = p === 0 ? newNode(-1) : child(nodes[p]!, ids[t.name[n]!]!);
      node.self = t.self[n]!;
      nodes[n] = node;
    }
    return [...this.threads.values()].map((s) => ({ th: s.th, root: nodes[s.nodes[0]!]! }));
  }
}

export interface FoldOptions extends ShapeOptions, ThreadSelection, WalkOptions {
  /** Put a frame naming the thread at the root of each stack. */
  perThread?: boolean;
}

export interface FoldResult {
  tree: FrameTree;
  walk: WalkResult;
  /** Weight unit of the tree. */
  unit: 'ns';
}

/** Folds the trace at `path` into one frame tree (selected threads merged). */
export async function foldTrace(from: TraceInput, options: FoldOptions = {}): Promise<FoldResult> {
  const walk = await walkTrace(from, () => new Folder(), options);
  const folder = walk.handler;
  if (folder.negativeSelf > 0) {
    walk.diagnostics.add(
      'negative_self',
      'error',
      `${folder.negativeSelf} slices had children longer than themselves; self time clamped to 0`,
      folder.negativeSelf,
    );
  }
  const merged = new FrameTree();
  let selected = 0;
  const src = new FrameTree();
  for (const { th, root } of folder.roots(src)) {
    const t = walk.threads.get(threadKey(th.pid, th.tid));
    if (!t || !selectsThread(options, t)) continue;
    selected++;
    const dst = options.perThread ? child(merged.root, merged.intern(threadLabel(t))) : merged.root;
    mergeInto(merged, dst, root, src.names);
  }
  if (selected === 0 && (options.threads?.length || options.processes?.length)) {
    const known = [...walk.threads.values()].map(threadLabel).slice(0, 20);
    throw new VizError('usage', `${walk.inputName}: no thread matches --thread/--process`, [
      `threads: ${known.join(', ')}`,
    ]);
  }
  return { tree: shapeTree(merged, options), walk, unit: 'ns' };
}

/**
 * Folded-stack lines (`a;b;c 1234`), as flamegraph.pl and inferno read them, in chunks of about
 * 1 MB: deep trees make the folded text much larger than the tree, so it is never held whole.
 * Stacks come depth first, children in name order; differential trees get two counts
 * (`stack before after`, as difffolded.pl writes).
 */
export function* foldedLines(tree: FrameTree, options: { unit?: 'ns' | 'us' } = {}): Generator<string> {
  const div = options.unit === 'us' ? 1000 : 1;
  const names = tree.names;
  const clean = names.map(cleanFrame);
  const diff = tree.diff;
  const byName = (a: FrameNode, b: FrameNode): number =>
    names[a.name]! < names[b.name]! ? 1 : names[a.name]! > names[b.name]! ? -1 : 0;
  // prefix[d]: the stack text down to depth d (cons strings share their parts).
  const prefix: string[] = [];
  const work: Array<{ node: FrameNode; depth: number }> = [];
  const push = (n: FrameNode, depth: number): void => {
    if (!n.children) return;
    for (const c of [...n.children.values()].sort(byName)) work.push({ node: c, depth });
  };
  push(tree.root, 0);
  let out = '';
  while (work.length > 0) {
    const { node, depth } = work.pop()!;
    prefix.length = depth;
    const line = depth === 0 ? clean[node.name]! : `${prefix[depth - 1]!};${clean[node.name]!}`;
    prefix.push(line);
    const w = Math.round(node.self / div);
    if (diff) {
      if (node.self !== 0 || node.self2 !== 0) out += `${line} ${Math.round(node.self2 / div)} ${w}\n`;
    } else if (w > 0) out += `${line} ${w}\n`;
    if (out.length >= 1 << 20) {
      yield out;
      out = '';
    }
    push(node, depth + 1);
  }
  if (out.length > 0) yield out;
}

/**
 * Bytes `foldedLines` would write, computed from the tree without building any line: the
 * folded format repeats the whole stack on every line, so very deep stacks make it huge.
 */
export function foldedSize(tree: FrameTree, options: { unit?: 'ns' | 'us' } = {}): number {
  const div = options.unit === 'us' ? 1000 : 1;
  const lens = tree.names.map((n) => Buffer.byteLength(cleanFrame(n)));
  let size = 0;
  const work: Array<{ node: FrameNode; prefix: number }> = [];
  for (const c of tree.root.children?.values() ?? []) work.push({ node: c, prefix: 0 });
  while (work.length > 0) {
    const { node, prefix } = work.pop()!;
    const len = prefix + (prefix > 0 ? 1 : 0) + lens[node.name]!;
    const w = Math.round(node.self / div);
    if (tree.diff ? node.self !== 0 || node.self2 !== 0 : w > 0)
      size += len + 2 + String(w).length + (tree.diff ? 1 + String(Math.round(node.self2 / div)).length : 0);
    if (node.children) for (const c of node.children.values()) work.push({ node: c, prefix: len });
  }
  return size;
}

/** Frame names may not contain the separators of the folded format. */
export function cleanFrame(name: string): string {
  return /[;\n\r]/.test(name) ? name.replace(/[\r\n]+/g, ' ').replace(/;/g, ':') : name;
}
