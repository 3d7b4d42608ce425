/**
 * The frame tree (a trie of call stacks) that folding builds and rendering
 * reads. Weights are integers: nanoseconds of self time when folded from a
 * trace, or whatever unit a folded file carries. Memory is one node per
 * distinct stack prefix, never per event.
 */

export interface FrameNode {
  /** Index into `FrameTree.names`; -1 for the root. */
  name: number;
  /** Weight of stacks ending exactly here. */
  self: number;
  /** Second weight (the "before" side of a differential graph). */
  self2: number;
  /** Inclusive weights, filled in by `computeTotals`. */
  total: number;
  total2: number;
  children: Map<number, FrameNode> | undefined;
  /** Children by name string: the folding hot path's lookup (saves interning per call). */
  byName: Map<string, FrameNode> | undefined;
}

export function newNode(name: number): FrameNode {
  return { name, self: 0, self2: 0, total: 0, total2: 0, children: undefined, byName: undefined };
}

/** Fills in `total`/`total2` of every node; returns the root's total. Iterative (deep stacks). */
export function computeTotals(root: FrameNode): number {
  const order: FrameNode[] = [];
  const work: FrameNode[] = [root];
  while (work.length > 0) {
    const n = work.pop()!;
    order.push(n);
    if (n.children) for (const c of n.children.values()) work.push(c);
  }
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    let t = n.self;
    let t2 = n.self2;
    if (n.children) {
      for (const c of n.children.values()) {
        t += c.total;
        t2 += c.total2;
      }
    }
    n.total = t;
    n.total2 = t2;
  }
  return root.total;
}

/** The root's total, computing the totals unless they are known to be valid. */
export function treeTotal(tree: FrameTree): number {
  if (!tree.totalsValid) {
    computeTotals(tree.root);
    tree.totalsValid = true;
  }
  return tree.root.total;
}

/** Stacks reversed (leaf first): the callers of each function, merged. */
export function reverseTree(tree: FrameTree): FrameTree {
  const out = new FrameTree();
  out.diff = tree.diff;
  forEachStack(tree, (path, node) => {
    if (node.self === 0 && node.self2 === 0) return;
    let n = out.root;
    for (let i = path.length - 1; i >= 0; i--) n = child(n, out.intern(tree.names[path[i]!]!));
    n.self += node.self;
    n.self2 += node.self2;
  });
  return out;
}

export class FrameTree {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  readonly root: FrameNode = newNode(-1);
  /** True when every node's `total`/`total2` is up to date (set by builders that maintain them). */
  totalsValid = false;
  /** True for a differential tree: `self2` is the "before" weight, `self` the "after". */
  diff = false;

  intern(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(name);
      this.ids.set(name, id);
    }
    return id;
  }

  /** Adds weight to the stack `frames` (root first). */
  addStack(frames: readonly string[], weight: number, weight2 = 0): void {
    this.totalsValid = false;
    let node = this.root;
    for (const f of frames) node = child(node, this.intern(f));
    node.self += weight;
    node.self2 += weight2;
  }
}

export function child(node: FrameNode, name: number): FrameNode {
  let kids = node.children;
  if (!kids) node.children = kids = new Map();
  let c = kids.get(name);
  if (!c) kids.set(name, (c = newNode(name)));
  return c;
}

/** Adds every stack of `src` (names from `srcNames`) below `dst` in `tree`. */
export function mergeInto(
  tree: FrameTree,
  dst: FrameNode,
  src: FrameNode,
  srcNames: readonly string[],
  asBefore = false,
): void {
  tree.totalsValid = false;
  const work: Array<[FrameNode, FrameNode]> = [[dst, src]];
  while (work.length > 0) {
    const [d, s] = work.pop()!;
    if (asBefore) d.self2 += s.self;
    else {
      d.self += s.self;
      d.self2 += s.self2;
    }
    if (s.children)
      for (const c of s.children.values()) work.push([child(d, tree.intern(srcNames[c.name]!)), c]);
  }
}

/** Visits every node with its stack (root first), children in name order. Iterative: stacks may be deep. */
export function forEachStack(
  tree: FrameTree,
  visit: (path: readonly number[], node: FrameNode) => void,
): void {
  const path: number[] = [];
  const work: Array<{ node: FrameNode; depth: number }> = [];
  const names = tree.names;
  const sortedKids = (n: FrameNode): FrameNode[] =>
    n.children
      ? [...n.children.values()].sort((a, b) =>
          names[a.name]! < names[b.name]! ? -1 : names[a.name]! > names[b.name]! ? 1 : 0,
        )
      : [];
  const kids = sortedKids(tree.root);
  for (let i = kids.length - 1; i >= 0; i--) work.push({ node: kids[i]!, depth: 0 });
  while (work.length > 0) {
    const { node, depth } = work.pop()!;
    path.length = depth;
    path.push(node.name);
    visit(path, node);
    const k = sortedKids(node);
    for (let i = k.length - 1; i >= 0; i--) work.push({ node: k[i]!, depth: depth + 1 });
  }
}

export interface ShapeOptions {
  /** Keep only stacks with a frame matching this. */
  include?: RegExp;
  /** Drop stacks with a frame matching this. */
  exclude?: RegExp;
  /** Merge directly recursive frames (`a;a;a` -> `a`). */
  collapseRecursion?: boolean;
  /** Frames deeper than this are counted in their ancestor at this depth. */
  maxDepth?: number;
}

/** A new tree with the filters applied; the input is not modified. */
export function shapeTree(tree: FrameTree, o: ShapeOptions): FrameTree {
  if (!o.include && !o.exclude && !o.collapseRecursion && o.maxDepth === undefined) return tree;
  const out = new FrameTree();
  out.diff = tree.diff;
  const names = tree.names;
  // Per-name regex results, computed once per distinct name: 0 unknown, 1 no, 2 yes.
  const incl = new Uint8Array(names.length);
  const excl = new Uint8Array(names.length);
  const test = (cache: Uint8Array, re: RegExp, id: number): boolean => {
    if (cache[id] === 0) cache[id] = re.test(names[id]!) ? 2 : 1;
    return cache[id] === 2;
  };
  const maxDepth = o.maxDepth ?? Number.POSITIVE_INFINITY;
  const stack: Array<{ src: FrameNode; depth: number; dst: FrameNode; included: boolean; prev: number }> = [];
  for (const c of tree.root.children?.values() ?? [])
    stack.push({ src: c, depth: 1, dst: out.root, included: false, prev: -1 });
  while (stack.length > 0) {
    const { src, depth, dst, included, prev } = stack.pop()!;
    if (o.exclude && test(excl, o.exclude, src.name)) continue;
    const inc = included || (o.include ? test(incl, o.include, src.name) : true);
    let here: FrameNode;
    let d = depth;
    if (o.collapseRecursion && src.name === prev) {
      here = dst;
      d = depth - 1;
    } else if (depth > maxDepth) {
      here = dst;
      d = depth - 1;
    } else {
      here = child(dst, out.intern(names[src.name]!));
    }
    if (inc) {
      here.self += src.self;
      here.self2 += src.self2;
    }
    if (src.children)
      for (const c of src.children.values())
        stack.push({ src: c, depth: d + 1, dst: here, included: inc, prev: src.name });
  }
  return prune(out);
}

/** Removes subtrees whose weights are all zero. Iterative: stacks may be thousands deep. */
function prune(tree: FrameTree): FrameTree {
  const order: FrameNode[] = [];
  const work: FrameNode[] = [tree.root];
  while (work.length > 0) {
    const n = work.pop()!;
    order.push(n);
    if (n.children) for (const c of n.children.values()) work.push(c);
  }
  // Children come after their parents in `order`: walk it backwards.
  const keep = new Set<FrameNode>();
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    if (n.children) {
      for (const [k, c] of n.children) if (!keep.has(c)) n.children.delete(k);
      if (n.children.size === 0) n.children = undefined;
    }
    if (n.self !== 0 || n.self2 !== 0 || n.children !== undefined) keep.add(n);
  }
  return tree;
}
