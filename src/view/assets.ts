/**
 * speedscope's offline build, shipped in the `speedscope` npm package
 * (`dist/release`: index.html, one JS bundle, one CSS file, a font, favicons).
 * viz serves these files as they are (`viz view`) or inlines them into one HTML
 * file (`--export`, `--to html`).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { VizError } from '../model/errors.js';

const require = createRequire(import.meta.url);

export interface ViewerBuild {
  dir: string;
  version: string;
  /** File names in `dir` (no source maps). */
  files: string[];
  /** The bundle and style sheet that index.html loads. */
  script: string;
  stylesheet: string;
}

let cached: ViewerBuild | undefined;

export function viewerBuild(): ViewerBuild {
  if (cached) return cached;
  let pkgPath: string;
  try {
    pkgPath = require.resolve('speedscope/package.json');
  } catch {
    throw new VizError(
      'internal',
      'the speedscope package is not installed; viz view needs its offline build',
      ['npm install speedscope'],
    );
  }
  const dir = join(dirname(pkgPath), 'dist', 'release');
  const version = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string }).version;
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => !f.endsWith('.map') && statSync(join(dir, f)).isFile());
  } catch {
    throw new VizError('internal', `${dir}: speedscope's offline build is missing`);
  }
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const script = /<script src="([^"/]+\.js)"><\/script>/.exec(html)?.[1];
  const stylesheet = /<link rel="stylesheet" href="([^"/]+\.css)">/.exec(html)?.[1];
  if (!script || !stylesheet || !files.includes(script) || !files.includes(stylesheet)) {
    throw new VizError('internal', `${dir}/index.html: unexpected layout of speedscope ${version}'s build`);
  }
  cached = { dir, version, files, script, stylesheet };
  return cached;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

export function contentType(name: string): string {
  const dot = name.lastIndexOf('.');
  return (dot >= 0 && TYPES[name.slice(dot).toLowerCase()]) || 'application/octet-stream';
}
