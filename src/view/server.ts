/**
 * The local HTTP server behind `viz view`: speedscope's offline build plus one
 * trace, nothing else.
 *
 * - Binds to 127.0.0.1 unless a host is given explicitly.
 * - Serves from an allowlist built at startup (the viewer's files and the
 *   trace); no directory listing, no file system path is ever derived from a URL.
 *   Paths with `..`, encoded dots, backslashes or NUL are refused before lookup.
 * - Refuses requests whose `Host` header is not this server's own address
 *   (127.0.0.1:PORT, localhost:PORT, [::1]:PORT or the explicit host), so a page
 *   on another site cannot reach it through DNS rebinding.
 * - GET and HEAD only.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { VizError } from '../model/errors.js';
import { contentType, viewerBuild } from './assets.js';

export const DEFAULT_HOST = '127.0.0.1';
/** URL path of the trace, in speedscope's format (the suffix makes speedscope pick its own importer). */
export const TRACE_PATH = '/trace.speedscope.json';

export interface ServeOptions {
  /** Address to bind; 127.0.0.1 unless given. */
  host?: string;
  /** 0 or undefined: a free port. */
  port?: number;
  /** Resolves to the path of the speedscope file once it is written; a rejection answers 500. */
  profile: () => Promise<string>;
  /** Title shown by speedscope. */
  title: string;
  /**
   * Resolves, once the conversion is done, to the speedscope view to open
   * (`time-ordered`, `left-heavy`, `sandwich`) or undefined for speedscope's default.
   * The page waits for it before starting speedscope (its files are preloaded meanwhile).
   */
  view?: () => Promise<string | undefined>;
}

export interface ViewServer {
  readonly host: string;
  readonly port: number;
  /** `http://HOST:PORT` */
  readonly origin: string;
  /** The page to open: the viewer with `#profileURL=` pointing at the trace. */
  readonly url: string;
  /** Resolves the first time the trace has been sent in full. */
  readonly traceDelivered: Promise<void>;
  close(): Promise<void>;
}

type Entry =
  | { kind: 'file'; path: string; type: string }
  | { kind: 'text'; body: Buffer; type: string }
  | { kind: 'trace' }
  | { kind: 'view' };

export const VIEW_PATH = '/viz-view.json';
const LOADER_PATH = '/viz-loader.js';

/**
 * speedscope's index.html with its bundle started by a small loader instead of a
 * `<script>` tag: the loader asks which view to open (known once the trace is
 * converted) and puts it in the URL hash before speedscope reads the hash. The
 * bundle is preloaded meanwhile.
 */
function indexPage(html: string, script: string): string {
  const tag = `<script src="${script}"></script>`;
  if (!html.includes(tag))
    throw new VizError('internal', `speedscope's index.html does not load ${script} as expected`);
  return html
    .replace(tag, `<script src="${LOADER_PATH.slice(1)}"></script>`)
    .replace('</head>', `  <link rel="preload" as="script" href="${script}">\n  </head>`);
}

function loaderScript(script: string): string {
  return `(function () {
  function start() {
    var s = document.createElement('script');
    s.src = ${JSON.stringify(script)};
    document.body.appendChild(s);
  }
  if (/[#&]view=/.test(location.hash)) return start();
  fetch(${JSON.stringify(VIEW_PATH)}, { cache: 'no-store' })
    .then(function (r) { return r.json(); })
    .then(function (info) {
      if (info && info.view) history.replaceState(null, '', location.pathname + location.search + location.hash + '&view=' + encodeURIComponent(info.view));
    })
    .catch(function () {})
    .then(start);
})();
`;
}

/** The allowlist: URL path -> what it serves. Built once; nothing else is reachable. */
export function buildAllowlist(): Map<string, Entry> {
  const build = viewerBuild();
  const routes = new Map<string, Entry>();
  for (const f of build.files)
    routes.set('/' + f, { kind: 'file', path: join(build.dir, f), type: contentType(f) });
  const index = Buffer.from(indexPage(readFileSync(join(build.dir, 'index.html'), 'utf8'), build.script));
  routes.set('/', { kind: 'text', body: index, type: contentType('index.html') });
  routes.set('/index.html', { kind: 'text', body: index, type: contentType('index.html') });
  routes.set(LOADER_PATH, {
    kind: 'text',
    body: Buffer.from(loaderScript(build.script)),
    type: contentType('x.js'),
  });
  routes.set(TRACE_PATH, { kind: 'trace' });
  routes.set(VIEW_PATH, { kind: 'view' });
  return routes;
}

/**
 * The route for a request target, or an HTTP status explaining the refusal.
 * Only origin-form targets (`/path?query`) are accepted.
 */
export function routeFor(target: string | undefined, routes: Map<string, Entry>): Entry | 400 | 404 {
  if (!target || target[0] !== '/' || target.startsWith('//')) return 400;
  const q = target.search(/[?#]/);
  const rawPath = q < 0 ? target : target.slice(0, q);
  if (/%2e|%2f|%5c|%00/i.test(rawPath)) return 400;
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return 400;
  }
  if (path.includes('..') || path.includes('\\') || path.includes('\0') || path.includes('//')) return 400;
  return routes.get(path) ?? 404;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Host header values this server answers to. */
export function allowedHosts(port: number, explicitHost: string | undefined): Set<string> {
  const set = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  if (explicitHost !== undefined) set.add(`${urlHost(explicitHost).toLowerCase()}:${port}`);
  return set;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

export async function startViewServer(options: ServeOptions): Promise<ViewServer> {
  const explicit = options.host !== undefined;
  const host = options.host ?? DEFAULT_HOST;
  const routes = buildAllowlist();
  const cache = new Map<string, Buffer>();
  let hosts = new Set<string>();
  let resolveDelivered!: () => void;
  const traceDelivered = new Promise<void>((resolve) => (resolveDelivered = resolve));
  const sockets = new Set<Socket>();

  const refuse = (res: ServerResponse, status: number, text: string): void => {
    res.writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'close',
    });
    res.end(text + '\n');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (!hosts.has(hostHeader)) return refuse(res, 421, 'refused: unexpected Host header');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return refuse(res, 405, 'method not allowed');
    }
    const route = routeFor(req.url, routes);
    if (route === 400) return refuse(res, 400, 'bad request path');
    if (route === 404) return refuse(res, 404, 'not found');
    const headers: Record<string, string> = {
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Resource-Policy': 'same-origin',
    };
    if (route.kind === 'file' || route.kind === 'text') {
      let body = route.kind === 'text' ? route.body : cache.get(route.path);
      if (!body && route.kind === 'file') cache.set(route.path, (body = readFileSync(route.path)));
      if (!body) return refuse(res, 500, 'internal error');
      res.writeHead(200, { ...headers, 'Content-Type': route.type, 'Content-Length': String(body.length) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    if (route.kind === 'view') {
      let view: string | undefined;
      try {
        view = await options.view?.();
      } catch {
        view = undefined;
      }
      const body = Buffer.from(JSON.stringify({ view: view ?? null }));
      res.writeHead(200, {
        ...headers,
        'Content-Type': 'application/json',
        'Content-Length': String(body.length),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    let file: string;
    try {
      file = await options.profile();
    } catch (err) {
      return refuse(res, 500, `viz could not convert the trace: ${(err as Error).message}`);
    }
    const size = statSync(file).size;
    res.writeHead(200, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(size) });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // Delivered: the response finished, or the client closed the connection once it had every
    // byte (a client that closes as soon as Content-Length is reached can pre-empt 'finish').
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    res.once('finish', () => resolveDelivered());
    res.once('close', () => {
      if (stream.bytesRead >= size) resolveDelivered();
    });
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) refuse(res, 500, 'internal error');
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'the port is in use'
          : err.code === 'EADDRNOTAVAIL'
            ? 'no such local address'
            : err.message;
      reject(
        new VizError(
          'usage',
          `cannot listen on ${urlHost(host)}:${options.port ?? 0}: ${why}`,
          err.code === 'EADDRINUSE' ? ['omit --port to use a free port'] : [],
        ),
      );
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(port, explicit ? host : undefined);
  const origin = `http://${urlHost(isLoopback(host) || explicit ? host : DEFAULT_HOST)}:${port}`;
  const url = `${origin}/#profileURL=${encodeURIComponent(TRACE_PATH)}&title=${encodeURIComponent(options.title)}`;
  return {
    host,
    port,
    origin,
    url,
    traceDelivered,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
