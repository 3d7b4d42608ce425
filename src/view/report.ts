/**
 * A single-file report: speedscope's viewer (JS, CSS, font, icon) and the trace
 * (in speedscope's format, base64) in one HTML file that opens from `file://`
 * with no server and no network.
 *
 * How the profile reaches speedscope: speedscope supports `#localProfilePath=P`,
 * for which it defines `window.speedscope.loadFileFromBase64(name, data)` and
 * then appends `<script src="file:///P">` to `<head>`. A small inline script that
 * runs before speedscope's bundle sets that hash and intercepts the append of
 * that one script element, calling `loadFileFromBase64` with the embedded data
 * instead, so nothing is ever fetched.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { openOutput, type Output } from '../io/output.js';
import type { TraceSource } from '../model/source.js';
import { writeSpeedscope } from '../formats/speedscope/writer.js';
import type { Ordering } from '../model/order.js';
import { viewerBuild } from './assets.js';
import { speedscopeView, type ViewMode } from './modes.js';

const MARK = 'viz-embedded-profile.js';

/** Makes text safe inside a `<script>` element (HTML ends it at `</script`, and `<!--` changes its parsing). */
export function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The inline loader: runs before speedscope's bundle. */
function shim(profileName: string, title: string, view: string | undefined): string {
  return `(function () {
  var MARK = ${JSON.stringify(MARK)};
  var hash = '#localProfilePath=' + MARK + '&title=' + encodeURIComponent(${JSON.stringify(title)})${view ? ` + '&view=${view}'` : ''};
  try { history.replaceState(null, '', hash); } catch (e) { location.hash = hash; }
  var head = document.head;
  var append = head.appendChild;
  head.appendChild = function (node) {
    if (node && node.tagName === 'SCRIPT' && String(node.src).indexOf(MARK) >= 0) {
      head.appendChild = append;
      setTimeout(function () {
        var data = document.getElementById('viz-profile').textContent.replace(/\\s+/g, '');
        window.speedscope.loadFileFromBase64(${JSON.stringify(profileName)}, data);
      }, 0);
      return node;
    }
    return append.call(head, node);
  };
})();`;
}

export interface ReportOptions {
  /** Input name, shown as the title. */
  name: string;
  /** speedscope view to open; `auto` (default) picks Left Heavy for very large traces. */
  view?: ViewMode;
  /** `timeOrdered`'s `external` and `lateEvents` (see `convert`). */
  ordering?: Ordering;
}

/** Writes the report for a trace to `out`. The trace is converted to speedscope's format in a temporary file first. */
export async function writeHtmlReport(
  source: TraceSource,
  out: Output,
  options: ReportOptions,
): Promise<{ events: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'viz-report-'));
  try {
    const profilePath = join(dir, 'trace.speedscope.json');
    const profileOut = openOutput(profilePath);
    let result;
    try {
      result = await writeSpeedscope(source, profileOut, { name: options.name, ordering: options.ordering });
      await profileOut.commit();
    } catch (err) {
      profileOut.abort();
      throw err;
    }
    await writeReportFromProfile(profilePath, out, { ...options, calls: result.events / 2 });
    return { events: result.events };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Assembles the HTML around an existing speedscope file, streaming its base64. */
export async function writeReportFromProfile(
  profilePath: string,
  out: Output,
  options: ReportOptions & { calls: number },
): Promise<void> {
  const build = viewerBuild();
  const title = basename(options.name);
  const font = build.files.find((f) => f.endsWith('.woff2'));
  let css = readFileSync(join(build.dir, build.stylesheet), 'utf8').replace(
    /\/\*# sourceMappingURL=[^*]*\*\/\s*$/,
    '',
  );
  if (font) {
    const data = readFileSync(join(build.dir, font)).toString('base64');
    css = css.split(`url("./${font}")`).join(`url("data:font/woff2;base64,${data}")`);
  }
  const icon = build.files.find((f) => /^favicon-32x32-.*\.png$/.test(f));
  const iconLink = icon
    ? `<link rel="icon" type="image/png" href="data:image/png;base64,${readFileSync(join(build.dir, icon)).toString('base64')}">`
    : '';
  const js = readFileSync(join(build.dir, build.script), 'utf8').replace(
    /\/\/# sourceMappingURL=\S*\s*$/,
    '',
  );
  await out.write(
    `<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta name="generator" content="viz; viewer: speedscope ${escapeHtml(build.version)} (MIT licence, https://github.com/jlfwong/speedscope)">
<title>${escapeHtml(title)} - viz report</title>
<style>${css.replace(/<\/(style)/gi, '<\\/$1')}</style>
${iconLink}
</head>
<body>
<script id="viz-profile" type="application/octet-stream">`,
  );
  // Base64 in chunks of a multiple of 3 bytes, so the pieces concatenate into one valid encoding.
  const fd = openSync(profilePath, 'r');
  try {
    const buf = Buffer.alloc(3 * (1 << 20));
    for (let pos = 0; ;) {
      let n = 0;
      while (n < buf.length) {
        const r = readSync(fd, buf, n, buf.length - n, pos + n);
        if (r === 0) break;
        n += r;
      }
      if (n === 0) break;
      await out.write(buf.subarray(0, n).toString('base64') + '\n');
      pos += n;
      if (n < buf.length) break;
    }
  } finally {
    closeSync(fd);
  }
  await out.write(
    `</script>
<script>${scriptSafe(shim(`${title.replace(/\.speedscope\.json$/, '')}.speedscope.json`, title, speedscopeView(options.view, options.calls)))}</script>
<script>${scriptSafe(js)}</script>
</body>
</html>
`,
  );
}
