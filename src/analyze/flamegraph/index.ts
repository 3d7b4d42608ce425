/**
 * `viz flamegraph`: fold a trace (or read a folded file) and write folded
 * stacks, an interactive SVG or an HTML page. Collapse and render are joined
 * only by the frame tree, as in inferno.
 */
import { extname } from 'node:path';
import { openInput } from '../../io/input.js';
import { openOutput } from '../../io/output.js';
import { Diagnostics } from '../../model/diagnostics.js';
import { VizError } from '../../model/errors.js';
import { detectFormat } from '../../formats/registry.js';
import { loadFoldedTrie } from './folded-load.js';
import { foldTrace, foldedLines, foldedSize, type FoldOptions } from './fold.js';
import { minWidthInUnits, renderHtml, renderSvg, type CountUnit, type SvgOptions } from './render-svg.js';
import { FrameTree, mergeInto, reverseTree, shapeTree, treeTotal } from './tree.js';

export type FlamegraphFormat = 'svg' | 'html' | 'folded';

export interface FlamegraphOptions extends FoldOptions, Omit<SvgOptions, 'unit'> {
  /** Output path, `-` for stdout (default). */
  output?: string;
  format?: FlamegraphFormat;
  /** Folded output from a trace: ns (default) or us. Folded input: what its counts are (default samples). */
  unit?: CountUnit;
  /** Reverse every stack (callers of the leaves). */
  reverse?: boolean;
  /** A second input: draw a differential graph of `input` (before) -> `diffAfter` (after). */
  diffAfter?: string;
}

export interface LoadedTree {
  tree: FrameTree;
  unit: CountUnit;
  diagnostics: Diagnostics;
  inputName: string;
  format: string;
}

/** Reads one input into a frame tree: folded files directly, traces through the shared nesting path. */
export async function loadTree(
  path: string,
  options: FlamegraphOptions,
  drawOnly = false,
): Promise<LoadedTree> {
  const input = await openInput(path);
  const format = detectFormat(input);
  if (format.name === 'folded') {
    const diagnostics = new Diagnostics();
    const trie = await loadFoldedTrie(input, diagnostics);
    // Only to be drawn as it is: keep just the frames wide enough to see.
    const tree = trie.toFrameTree(drawOnly ? minWidthInUnits(trie.total[0]!, options) : 0);
    const unit: CountUnit = options.unit ?? 'samples';
    return { tree: shapeTree(tree, options), unit, diagnostics, inputName: input.name, format: format.name };
  }
  const folded = await foldTrace({ input, format }, options);
  return {
    tree: folded.tree,
    unit: 'ns',
    diagnostics: folded.walk.diagnostics,
    inputName: folded.walk.inputName,
    format: folded.walk.format,
  };
}

export interface FlamegraphResult {
  output: string;
  format: FlamegraphFormat;
  /** Frames drawn (svg/html) or lines written (folded). */
  items: number;
  total: number;
  unit: CountUnit;
  diagnostics: Diagnostics;
}

export function outputFormatFor(
  output: string | undefined,
  format: FlamegraphFormat | undefined,
): FlamegraphFormat {
  const ext = output && output !== '-' ? extname(output).toLowerCase() : '';
  const byExt: FlamegraphFormat | undefined =
    ext === '.svg'
      ? 'svg'
      : ext === '.html' || ext === '.htm'
        ? 'html'
        : ext === '.folded' || ext === '.collapsed' || ext === '.txt'
          ? 'folded'
          : undefined;
  if (format && byExt && format !== byExt)
    throw new VizError('usage', `--format ${format} disagrees with the output name ${output}`);
  if (!format && !byExt && ext !== '') {
    throw new VizError('usage', `${output}: unknown output extension ${ext}`, [
      'use .svg, .html or .folded, or give --format',
    ]);
  }
  return format ?? byExt ?? 'svg';
}

export async function flamegraph(
  inputPath: string,
  options: FlamegraphOptions = {},
): Promise<FlamegraphResult> {
  const format = outputFormatFor(options.output, options.format);
  let loaded: LoadedTree;
  if (options.diffAfter !== undefined) {
    if (inputPath === '-' && options.diffAfter === '-')
      throw new VizError('usage', '--diff: only one of the two inputs can be stdin');
    const before = await loadTree(inputPath, options);
    const after = await loadTree(options.diffAfter, options);
    const tree = new FrameTree();
    tree.diff = true;
    mergeInto(tree, tree.root, after.tree.root, after.tree.names);
    mergeInto(tree, tree.root, before.tree.root, before.tree.names, true);
    const diagnostics = new Diagnostics();
    diagnostics.merge(before.diagnostics);
    diagnostics.merge(after.diagnostics);
    loaded = { tree, unit: after.unit, diagnostics, inputName: after.inputName, format: after.format };
  } else {
    const shaped =
      options.include ||
      options.exclude ||
      options.collapseRecursion ||
      options.maxDepth !== undefined ||
      options.reverse;
    loaded = await loadTree(inputPath, options, format !== 'folded' && !shaped);
  }
  let tree = loaded.tree;
  if (options.reverse) tree = reverseTree(tree);
  const outPath = options.output ?? '-';
  if (outPath === '-' && format !== 'folded' && process.stdout.isTTY) {
    throw new VizError('usage', `refusing to write ${format.toUpperCase()} to a terminal`, [
      'use -o FILE.svg, or pipe the output',
    ]);
  }
  const foldedUnit =
    loaded.format === 'folded' ? undefined : loaded.unit === 'us' || options.unit === 'us' ? 'us' : 'ns';
  if (format === 'folded') {
    const limitMB = Number(process.env.VIZ_MAX_FOLDED_MB ?? 1024);
    const size = foldedSize(tree, { unit: foldedUnit });
    if (size > limitMB * 2 ** 20) {
      throw new VizError(
        'usage',
        `the folded stacks would take ${(size / 2 ** 30).toFixed(1)} GiB (the format repeats each stack on every line, and these stacks are deep); nothing written`,
        [
          'cut the stacks with --max-depth N, or draw an SVG instead (its size follows what is visible)',
          `VIZ_MAX_FOLDED_MB raises the limit (now ${limitMB} MB)`,
        ],
      );
    }
  }
  const out = openOutput(outPath);
  let items = 0;
  try {
    if (format === 'folded') {
      for (const c of foldedLines(tree, { unit: foldedUnit })) {
        for (let i = c.indexOf('\n'); i >= 0; i = c.indexOf('\n', i + 1)) items++;
        await out.write(c);
      }
    } else {
      // The SVG is bounded by the frames wide enough to draw, not by the input.
      const chunks: string[] = [];
      const svgOptions: SvgOptions = { ...options, unit: loaded.unit };
      if (!svgOptions.subtitle && tree.diff)
        svgOptions.subtitle = `${inputPath} -> ${options.diffAfter}: red grew, blue shrank; widths from the second`;
      const render = format === 'html' ? renderHtml : renderSvg;
      items = render(tree, svgOptions, (c) => chunks.push(c)).frames;
      for (const c of chunks) await out.write(c);
    }
    await out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
  return {
    output: out.name,
    format,
    items,
    total: treeTotal(tree),
    unit: loaded.unit,
    diagnostics: loaded.diagnostics,
  };
}
