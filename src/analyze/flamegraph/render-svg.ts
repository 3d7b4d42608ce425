/**
 * A self-contained interactive flame graph (SVG, or SVG inside an HTML page),
 * in the manner of flamegraph.pl: click a frame to zoom, "Reset Zoom", regex
 * search that highlights frames and reports the matched share of the total
 * (nested matches counted once), tooltips with name, file:line, time and
 * percent. Colours come from a hash of the frame name, so output is
 * deterministic. Only frames at least `minWidth` pixels wide are written, so
 * the output size follows what can be seen, not the input size.
 */
import { frameLocation } from '../walk.js';
import { treeTotal, type FrameNode, type FrameTree } from './tree.js';

export type CountUnit = 'ns' | 'us' | 'samples';

export interface SvgOptions {
  title?: string;
  subtitle?: string;
  /** Image width in pixels (default 1200). */
  width?: number;
  /** Omit frames narrower than this many pixels (default 0.1), or a percentage of the total as `"0.5%"`. */
  minWidth?: number | string;
  /** Palette name (see `PALETTES`), default `hot`; differential graphs use red/blue. */
  colors?: string;
  /** Icicle graph: roots at the top. */
  inverted?: boolean;
  /** What the weights count (default ns). */
  unit?: CountUnit;
  /** Background / search colour overrides are not offered; keep the look stable. */
  frameHeight?: number;
  fontSize?: number;
}

export const PALETTES = [
  'hot',
  'mem',
  'io',
  'red',
  'green',
  'blue',
  'aqua',
  'yellow',
  'purple',
  'orange',
  'gray',
] as const;

/** FNV-1a over the function name (without the file:line suffix), as three fractions in [0, 1). */
function nameHash(name: string): [number, number, number] {
  const func = frameLocation(name).func;
  let h = 0x811c9dc5;
  for (let i = 0; i < func.length; i++) {
    h ^= func.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  const a = h >>> 0;
  return [(a & 0x3ff) / 1024, ((a >>> 10) & 0x3ff) / 1024, ((a >>> 20) & 0x3ff) / 1024];
}

export function frameColor(palette: string, name: string): string {
  const [v1, v2, v3] = nameHash(name);
  let r: number;
  let g: number;
  let b: number;
  switch (palette) {
    case 'mem':
      [r, g, b] = [0, 190 + 50 * v2, 210 * v1];
      break;
    case 'io':
      [r, g, b] = [80 + 60 * v1, 80 + 60 * v1, 190 + 55 * v2];
      break;
    case 'red':
      [r, g, b] = [200 + 55 * v1, 50 + 80 * v1, 50 + 80 * v1];
      break;
    case 'green':
      [r, g, b] = [50 + 60 * v1, 200 + 55 * v1, 50 + 60 * v1];
      break;
    case 'blue':
      [r, g, b] = [80 + 60 * v1, 80 + 60 * v1, 205 + 50 * v1];
      break;
    case 'aqua':
      [r, g, b] = [50 + 60 * v1, 165 + 55 * v1, 165 + 55 * v1];
      break;
    case 'yellow':
      [r, g, b] = [175 + 55 * v1, 175 + 55 * v1, 50 + 20 * v1];
      break;
    case 'purple':
      [r, g, b] = [190 + 65 * v1, 80 + 60 * v1, 190 + 65 * v1];
      break;
    case 'orange':
      [r, g, b] = [190 + 65 * v1, 90 + 65 * v1, 0];
      break;
    case 'gray':
      [r, g, b] = [150 + 70 * v1, 150 + 70 * v1, 150 + 70 * v1];
      break;
    default: // hot
      [r, g, b] = [205 + 50 * v3, 230 * v1, 55 * v2];
  }
  return `rgb(${Math.round(r)},${Math.round(g)},${Math.round(b)})`;
}

/** Red for growth, blue for shrinkage, white for no change; `ratio` in [-1, 1]. */
function diffColor(ratio: number): string {
  const v = Math.round(210 * (1 - Math.min(1, Math.abs(ratio))));
  if (ratio > 0) return `rgb(255,${v},${v})`;
  if (ratio < 0) return `rgb(${v},${v},255)`;
  return 'rgb(250,250,250)';
}

export function formatWeight(w: number, unit: CountUnit): string {
  if (unit === 'samples') return `${w.toLocaleString('en-US')} samples`;
  const ns = unit === 'us' ? w * 1000 : w;
  return formatNs(ns);
}

export function formatNs(ns: number): string {
  const a = Math.abs(ns);
  if (a >= 1e9) return `${(ns / 1e9).toFixed(3)} s`;
  if (a >= 1e6) return `${(ns / 1e6).toFixed(3)} ms`;
  if (a >= 1e3) return `${(ns / 1e3).toFixed(3)} µs`;
  return `${ns} ns`;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

const CHAR_WIDTH = 0.59;
const XPAD = 10;

/** `--minwidth` in weight units: frames with less weight than this are not drawn. */
export function minWidthInUnits(total: number, options: SvgOptions): number {
  if (typeof options.minWidth === 'string' && options.minWidth.endsWith('%'))
    return (Number(options.minWidth.slice(0, -1)) / 100) * total;
  const widthPerUnit = total > 0 ? ((options.width ?? 1200) - 2 * XPAD) / total : 0;
  const px = Number(options.minWidth ?? 0.1);
  return widthPerUnit > 0 ? px / widthPerUnit : 0;
}

/** Writes the SVG in pieces through `emit` (which may be an output stream). */
export function renderSvg(
  tree: FrameTree,
  options: SvgOptions,
  emit: (chunk: string) => void,
): { frames: number } {
  const width = options.width ?? 1200;
  const frameHeight = options.frameHeight ?? 16;
  const fontSize = options.fontSize ?? 12;
  const unit = options.unit ?? 'ns';
  const palette = options.colors ?? 'hot';
  const xpad = XPAD;
  const ypadTop = fontSize * 3;
  const ypadBottom = fontSize * 2 + 10;
  const total = treeTotal(tree);
  const total2 = tree.root.total2;
  const widthPerUnit = total > 0 ? (width - 2 * xpad) / total : 0;
  const minWidthUnits = minWidthInUnits(total, options);

  // Visible frames, depth first; children in name order (as flamegraph.pl sorts stacks).
  interface Frame {
    node: FrameNode;
    start: number;
    depth: number;
  }
  const frames: Frame[] = [];
  let maxDepth = 0;
  let maxDelta = 0;
  const names = tree.names;
  const byName = (a: FrameNode, b: FrameNode): number =>
    names[a.name]! < names[b.name]! ? -1 : names[a.name]! > names[b.name]! ? 1 : 0;
  const work: Frame[] = [];
  const pushKids = (n: FrameNode, start: number, depth: number): void => {
    if (!n.children) return;
    const kids = [...n.children.values()].sort(byName);
    let x = start;
    const items: Frame[] = [];
    for (const c of kids) {
      if (c.total >= minWidthUnits && c.total > 0) items.push({ node: c, start: x, depth });
      x += c.total;
    }
    for (let i = items.length - 1; i >= 0; i--) work.push(items[i]!);
  };
  pushKids(tree.root, 0, 0);
  while (work.length > 0) {
    const f = work.pop()!;
    frames.push(f);
    if (f.depth > maxDepth) maxDepth = f.depth;
    if (tree.diff) maxDelta = Math.max(maxDelta, Math.abs(f.node.total - f.node.total2));
    pushKids(f.node, f.start, f.depth + 1);
  }

  const levels = frames.length === 0 ? 1 : maxDepth + 1;
  const height = ypadTop + ypadBottom + levels * frameHeight;
  const title =
    options.title ??
    (tree.diff ? 'Differential Flame Graph' : options.inverted ? 'Icicle Graph' : 'Flame Graph');
  const subtitle = options.subtitle;
  const emptyNote = total === 0 ? 'No stacks: the input had no slices with time.' : '';
  const head =
    `<?xml version="1.0" standalone="no"?>\n` +
    `<svg version="1.1" id="viz-flamegraph" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" data-total="${total}" data-unit="${unit}" data-inverted="${options.inverted ? 1 : 0}" data-fh="${frameHeight}" data-xpad="${xpad}" data-ytop="${ypadTop}" data-ybottom="${ypadBottom}" data-minwidth="${minWidthUnits}" data-fontsize="${fontSize}">\n` +
    `<style type="text/css">\n` +
    `text { font-family: Verdana, sans-serif; font-size: ${fontSize}px; fill: rgb(0,0,0); }\n` +
    `#title { text-anchor: middle; font-size: ${fontSize + 5}px; }\n` +
    `#subtitle { text-anchor: middle; fill: rgb(90,90,90); }\n` +
    `#search, #ignorecase, #unzoom { cursor: pointer; opacity: 0.9; }\n` +
    `#search:hover, #ignorecase:hover, #unzoom:hover { opacity: 1; }\n` +
    `#unzoom.hide { display: none; }\n` +
    `g.f:hover { stroke: black; stroke-width: 0.5; cursor: pointer; }\n` +
    `g.f.hide { display: none; }\n` +
    `g.f.parent rect { opacity: 0.5; }\n` +
    `g.f text { pointer-events: none; }\n` +
    `</style>\n` +
    `<defs><linearGradient id="background" y1="0" y2="1" x1="0" x2="0"><stop stop-color="#eeeeee" offset="5%"/><stop stop-color="#eeeeb0" offset="95%"/></linearGradient></defs>\n` +
    `<rect x="0" y="0" width="${width}" height="${height}" fill="url(#background)"/>\n` +
    `<text id="title" x="${width / 2}" y="${fontSize * 2}">${escapeXml(title)}</text>\n` +
    (subtitle
      ? `<text id="subtitle" x="${width / 2}" y="${fontSize * 3}">${escapeXml(subtitle)}</text>\n`
      : '') +
    `<text id="details" x="${xpad}" y="${height - fontSize / 2 - 4}">${escapeXml(emptyNote)} </text>\n` +
    `<text id="unzoom" class="hide" x="${xpad}" y="${fontSize * 2}">Reset Zoom</text>\n` +
    `<text id="search" x="${width - xpad - 100}" y="${fontSize * 2}">Search</text>\n` +
    `<text id="ignorecase" x="${width - xpad - 16}" y="${fontSize * 2}">ic</text>\n` +
    `<text id="matched" x="${width - xpad - 100}" y="${height - fontSize / 2 - 4}"> </text>\n` +
    `<g id="frames">\n`;
  emit(head);

  const colorCache = new Map<number, string>();
  let chunk: string[] = [];
  for (const f of frames) {
    const n = f.node;
    const name = names[n.name]!;
    const x = xpad + f.start * widthPerUnit;
    const w = n.total * widthPerUnit;
    const y = options.inverted
      ? ypadTop + f.depth * frameHeight
      : height - ypadBottom - (f.depth + 1) * frameHeight;
    let fill: string;
    let info: string;
    const pct = total > 0 ? ((100 * n.total) / total).toFixed(2) : '0.00';
    const loc = frameLocation(name);
    const where = loc.file
      ? `\n${loc.file}:${loc.line}${loc.column === undefined ? '' : `:${loc.column}`}`
      : '';
    if (tree.diff) {
      const delta = n.total - n.total2;
      fill = diffColor(maxDelta > 0 ? delta / maxDelta : 0);
      const rel = n.total2 > 0 ? ` (${delta >= 0 ? '+' : ''}${((100 * delta) / n.total2).toFixed(2)}%)` : '';
      info = `${name}${where}\nafter: ${formatWeight(n.total, unit)} (${pct}%)\nbefore: ${formatWeight(n.total2, unit)} (${total2 > 0 ? ((100 * n.total2) / total2).toFixed(2) : '0.00'}%)\nchange: ${delta >= 0 ? '+' : '-'}${formatWeight(Math.abs(delta), unit)}${rel}`;
    } else {
      fill = colorCache.get(n.name) ?? frameColor(palette, name);
      colorCache.set(n.name, fill);
      info = `${name}${where}\n${formatWeight(n.total, unit)} (${pct}%), self ${formatWeight(n.self, unit)}`;
    }
    const chars = Math.floor(w / (fontSize * CHAR_WIDTH));
    const label = chars < 3 ? '' : name.length <= chars ? name : `${name.slice(0, chars - 2)}..`;
    chunk.push(
      `<g class="f" data-s="${f.start}" data-w="${n.total}" data-d="${f.depth}"><title>${escapeXml(info)}</title>` +
        `<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${frameHeight - 1}" fill="${fill}" rx="2" ry="2"/>` +
        `<text x="${(x + 3).toFixed(2)}" y="${y + frameHeight - 4.5}">${escapeXml(label)}</text></g>\n`,
    );
    if (chunk.length >= 2048) {
      emit(chunk.join(''));
      chunk = [];
    }
  }
  if (chunk.length > 0) emit(chunk.join(''));
  emit(`</g>\n<script type="text/ecmascript"><![CDATA[\n${SCRIPT}\n]]></script>\n</svg>\n`);
  return { frames: frames.length };
}

/** The page wrapper for `-o graph.html`. */
export function renderHtml(
  tree: FrameTree,
  options: SvgOptions,
  emit: (chunk: string) => void,
): { frames: number } {
  const title = escapeXml(options.title ?? 'Flame Graph');
  emit(
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${title}</title>\n<style>body { margin: 0; background: #fff; } svg { display: block; }</style>\n</head>\n<body>\n`,
  );
  let first = true;
  const result = renderSvg(tree, options, (c) => {
    if (first) {
      // An XML declaration is not allowed inside HTML.
      c = c.replace(/^<\?xml[^>]*\?>\n/, '');
      first = false;
    }
    emit(c);
  });
  emit(`</body>\n</html>\n`);
  return result;
}

/**
 * The viewer's script. Plain ES2015, no dependencies; everything it needs is in
 * the `data-*` attributes: `s` (start, in weight units), `w` (width) and `d`
 * (depth) of each frame. Exposes `vizFlamegraph.search(re)`, `.zoom(g)`,
 * `.reset()` for scripting and tests.
 */
const SCRIPT = String.raw`
(function () {
  var svg = document.getElementById('viz-flamegraph');
  var NS = 'http://www.w3.org/2000/svg';
  var total = +svg.getAttribute('data-total');
  var inverted = svg.getAttribute('data-inverted') === '1';
  var fh = +svg.getAttribute('data-fh');
  var xpad = +svg.getAttribute('data-xpad');
  var fontSize = +svg.getAttribute('data-fontsize');
  var W = +svg.getAttribute('width');
  var H = +svg.getAttribute('height');
  var ybottom = +svg.getAttribute('data-ybottom');
  var ytop = +svg.getAttribute('data-ytop');
  var details = document.getElementById('details');
  var matchedText = document.getElementById('matched');
  var unzoomBtn = document.getElementById('unzoom');
  var searchBtn = document.getElementById('search');
  var icBtn = document.getElementById('ignorecase');
  var nodes = Array.prototype.slice.call(document.querySelectorAll('g.f'));
  var frames = nodes.map(function (g) {
    var title = g.querySelector('title').textContent;
    return {
      g: g, s: +g.getAttribute('data-s'), w: +g.getAttribute('data-w'), d: +g.getAttribute('data-d'),
      rect: g.querySelector('rect'), text: g.querySelector('text'),
      name: title.split('\n')[0], info: title.replace(/\n/g, ' | '), fill: g.querySelector('rect').getAttribute('fill')
    };
  });
  var byG = new Map();
  frames.forEach(function (f) { byG.set(f.g, f); });
  var ignoreCase = false;
  var currentSearch = null;
  var zoomed = null;

  function label(f, width) {
    var chars = Math.floor(width / (fontSize * 0.59));
    if (chars < 3) return '';
    return f.name.length <= chars ? f.name : f.name.slice(0, chars - 2) + '..';
  }
  function place(f, x, w) {
    f.rect.setAttribute('x', x.toFixed(2));
    f.rect.setAttribute('width', w.toFixed(2));
    f.text.setAttribute('x', (x + 3).toFixed(2));
    f.text.textContent = label(f, w);
  }
  function zoom(g) {
    var z = byG.get(g);
    if (!z) return;
    zoomed = z;
    unzoomBtn.classList.remove('hide');
    var scale = (W - 2 * xpad) / z.w;
    frames.forEach(function (f) {
      f.g.classList.remove('parent');
      f.g.classList.remove('hide');
      if (f.d < z.d) {
        if (f.s <= z.s && f.s + f.w >= z.s + z.w) {
          f.g.classList.add('parent');
          place(f, xpad, W - 2 * xpad);
        } else f.g.classList.add('hide');
      } else if (f.s >= z.s && f.s + f.w <= z.s + z.w && (f.d > z.d || f === z)) {
        var w = f.w * scale;
        if (w < 0.1) f.g.classList.add('hide');
        else place(f, xpad + (f.s - z.s) * scale, w);
      } else f.g.classList.add('hide');
    });
    if (currentSearch !== null) search(currentSearch);
  }
  function reset() {
    zoomed = null;
    unzoomBtn.classList.add('hide');
    var scale = (W - 2 * xpad) / (total || 1);
    frames.forEach(function (f) {
      f.g.classList.remove('parent');
      f.g.classList.remove('hide');
      place(f, xpad + f.s * scale, f.w * scale);
    });
    if (currentSearch !== null) search(currentSearch);
  }
  // Matched share: the union of matched [s, s+w) ranges, so a match nested in
  // another match (recursion) is counted once.
  function search(term) {
    clearSearch();
    if (term === null || term === undefined || term === '') return null;
    var re;
    try { re = new RegExp(term, ignoreCase ? 'i' : ''); } catch (e) { matchedText.textContent = 'Bad regex: ' + e.message; return null; }
    currentSearch = term;
    var ranges = [];
    frames.forEach(function (f) {
      if (!re.test(f.name)) return;
      f.rect.setAttribute('fill', 'rgb(230,0,230)');
      f.g.classList.add('match');
      ranges.push([f.s, f.s + f.w]);
    });
    ranges.sort(function (a, b) { return a[0] - b[0]; });
    var covered = 0, end = -Infinity;
    ranges.forEach(function (r) {
      if (r[1] <= end) return;
      covered += r[1] - Math.max(r[0], end);
      end = r[1];
    });
    var pct = total > 0 ? (100 * covered / total) : 0;
    searchBtn.textContent = 'Reset Search';
    matchedText.textContent = 'Matched: ' + pct.toFixed(1) + '%';
    matchedText.setAttribute('data-matched', String(covered));
    return pct;
  }
  function clearSearch() {
    currentSearch = null;
    frames.forEach(function (f) {
      if (f.g.classList.contains('match')) {
        f.g.classList.remove('match');
        f.rect.setAttribute('fill', f.fill);
      }
    });
    searchBtn.textContent = 'Search';
    matchedText.textContent = ' ';
  }
  svg.addEventListener('click', function (e) {
    var g = e.target.closest ? e.target.closest('g.f') : null;
    if (g) { zoom(g); return; }
    if (e.target === unzoomBtn) { reset(); return; }
    if (e.target === searchBtn) {
      if (currentSearch !== null) { clearSearch(); return; }
      var term = window.prompt('Search frames (regular expression' + (ignoreCase ? ', ignoring case' : '') + '):', '');
      if (term) search(term);
      return;
    }
    if (e.target === icBtn) {
      ignoreCase = !ignoreCase;
      icBtn.textContent = ignoreCase ? 'IC' : 'ic';
      if (currentSearch !== null) search(currentSearch);
    }
  });
  svg.addEventListener('mouseover', function (e) {
    var g = e.target.closest ? e.target.closest('g.f') : null;
    if (g && byG.get(g)) details.textContent = byG.get(g).info;
  });
  svg.addEventListener('mouseout', function (e) {
    var g = e.target.closest ? e.target.closest('g.f') : null;
    if (g) details.textContent = ' ';
  });
  document.addEventListener('keydown', function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === 'f') { e.preventDefault(); searchBtn.dispatchEvent(new MouseEvent('click', { bubbles: true })); }
    if (e.key === 'Escape') reset();
  });
  // ?s=regex in the URL searches on load.
  try {
    var m = /[?&]s=([^&]*)/.exec(window.location.search);
    if (m) search(decodeURIComponent(m[1]));
  } catch (e) {}
  window.vizFlamegraph = { search: search, clearSearch: clearSearch, zoom: zoom, reset: reset, frames: frames };
})();
`;
