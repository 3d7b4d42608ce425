import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  allowedHosts,
  buildAllowlist,
  isLoopback,
  routeFor,
  startViewServer,
  TRACE_PATH,
  VIEW_PATH,
  type ViewServer,
} from '../../src/view/server.js';
import { view } from '../../src/view/session.js';
import { speedscopeView } from '../../src/view/modes.js';

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A raw HTTP request: the path is sent exactly as given (no normalisation by a client library). */
function get(
  port: number,
  path: string,
  options: { host?: string; address?: string; method?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.address ?? '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { Host: options.host ?? `127.0.0.1:${port}` },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Sends bytes as they are and returns the status line (for targets `http.request` would refuse to send). */
function rawStatus(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let data = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (data += d));
    s.on('end', () => resolve(data.split('\r\n')[0] ?? ''));
    s.on('error', reject);
  });
}

/** Waits for `onListening`; fails with view()'s own error if it ends first. */
async function untilListening<T>(done: Promise<unknown>, current: () => T | undefined): Promise<T> {
  let ended: unknown;
  done.then(
    () => (ended ??= new Error('view() returned before listening')),
    (err: unknown) => (ended ??= err),
  );
  for (;;) {
    const s = current();
    if (s) return s;
    if (ended) throw ended;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('view server', () => {
  let dir: string;
  let server: ViewServer;
  let tracePath: string;
  const traceBody =
    '{"$schema":"https://www.speedscope.app/file-format-schema.json","profiles":[],"shared":{"frames":[]}}';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'viz-server-test-'));
    tracePath = join(dir, 'trace.speedscope.json');
    writeFileSync(tracePath, traceBody);
    server = await startViewServer({
      profile: async () => tracePath,
      title: 't.json',
      view: async () => 'left-heavy',
    });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 only, and serves the viewer and the trace', async () => {
    assert.equal(server.host, '127.0.0.1');
    assert.match(
      server.url,
      /^http:\/\/127\.0\.0\.1:\d+\/#profileURL=%2Ftrace\.speedscope\.json&title=t\.json$/,
    );
    const index = await get(server.port, '/');
    assert.equal(index.status, 200);
    assert.match(index.body, /<link rel="preload" as="script" href="speedscope-[\w-]+\.js">/);
    assert.match(index.body, /viz-loader\.js/);
    const trace = await get(server.port, TRACE_PATH);
    assert.equal(trace.status, 200);
    assert.equal(trace.body, traceBody);
    assert.equal(trace.headers['content-type'], 'application/json');
    const mode = await get(server.port, VIEW_PATH);
    assert.deepEqual(JSON.parse(mode.body), { view: 'left-heavy' });
    for (const name of ['localhost', '[::1]']) {
      assert.equal(
        (await get(server.port, TRACE_PATH, { host: `${name}:${server.port}` })).status,
        200,
        name,
      );
    }
  });

  it('refuses /../package.json and every spelling of a traversal', async () => {
    const targets = [
      '/../package.json',
      '/../../package.json',
      '/%2e%2e/package.json',
      '/%2E%2E/package.json',
      '/.%2e/package.json',
      '/%2e%2e%2fpackage.json',
      '/..%2fpackage.json',
      '/..%5cpackage.json',
      '/%252e%252e/package.json',
      '/..\\package.json',
      '//etc/passwd',
      '/speedscope-x.js%00.html',
    ];
    for (const t of targets) {
      const r = await get(server.port, t);
      assert.ok(r.status === 400 || r.status === 404, `${t}: ${r.status}`);
      assert.ok(!r.body.includes('"name": "viz-trace"') && !r.body.includes('root:'), `${t} leaked a file`);
    }
    // Absolute-form and asterisk targets, sent raw.
    assert.match(
      await rawStatus(
        server.port,
        `GET http://127.0.0.1:${server.port}/../package.json HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`,
      ),
      / 400 /,
    );
    assert.match(
      await rawStatus(
        server.port,
        `GET /%2e%2e/%2e%2e/package.json HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`,
      ),
      / 400 /,
    );
  });

  it('serves only the allowlist: no directory listing, no other file of the package', async () => {
    for (const t of [
      '/package.json',
      '/dist/',
      '/release/',
      '/node_modules/speedscope/package.json',
      '/speedscope-Y2522XSH.js.map',
      '/LICENSE',
    ]) {
      assert.equal((await get(server.port, t)).status, 404, t);
    }
    const routes = buildAllowlist();
    assert.equal(routeFor('/a/../index.html', routes), 400);
    assert.equal(routeFor('/%2e%2e/index.html', routes), 400);
    assert.equal(routeFor('http://x/', routes), 400);
    assert.equal(routeFor('/nope', routes), 404);
    assert.equal(typeof routeFor(`${TRACE_PATH}?x=1`, routes), 'object');
  });

  it('refuses a foreign Host header (DNS rebinding) and a missing one', async () => {
    for (const host of [
      'evil.example',
      `evil.example:${server.port}`,
      `127.0.0.1:${server.port + 1}`,
      `localhost.evil.example:${server.port}`,
      `127.0.0.2:${server.port}`,
    ]) {
      const r = await get(server.port, TRACE_PATH, { host });
      assert.equal(r.status, 421, host);
      assert.ok(!r.body.includes('$schema'), `${host} got the trace`);
    }
    assert.match(await rawStatus(server.port, `GET ${TRACE_PATH} HTTP/1.0\r\n\r\n`), / 421 /);
    assert.deepEqual([...allowedHosts(8000, undefined)].sort(), [
      '127.0.0.1:8000',
      '[::1]:8000',
      'localhost:8000',
    ]);
    assert.ok(allowedHosts(8000, '192.0.2.7').has('192.0.2.7:8000'));
  });

  it('answers only GET and HEAD', async () => {
    assert.equal((await get(server.port, '/', { method: 'POST' })).status, 405);
    assert.equal((await get(server.port, '/', { method: 'PUT' })).status, 405);
    const head = await get(server.port, TRACE_PATH, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('is not reachable on an address other than the one it is bound to', async () => {
    // 127.0.0.2 is this machine too (the whole 127/8 is loopback), but the server is bound to 127.0.0.1 only.
    await assert.rejects(
      get(server.port, TRACE_PATH, { address: '127.0.0.2', host: `127.0.0.1:${server.port}` }),
      /ECONNREFUSED/,
    );
    assert.equal(server.host, '127.0.0.1');
  });

  it('is not reachable on a non-loopback address of the machine (private network namespace)', function () {
    // A namespace of our own with one veth interface at 192.0.2.1 (a documentation address that
    // exists only inside it): no traffic leaves this process tree.
    const setup = [
      'ip link set lo up',
      'ip link add viz0 type veth peer name viz1',
      'ip addr add 192.0.2.1/24 dev viz0',
      'ip link set viz0 up',
      'ip link set viz1 up',
    ].join(' && ');
    const probe = join(import.meta.dirname, 'netns-probe.ts');
    const r = spawnSync(
      'unshare',
      ['-n', 'sh', '-c', `${setup} && exec "$0" --import tsx "$1" 192.0.2.1`, process.execPath, probe],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    if (r.error || (r.status !== 0 && /unshare|Operation not permitted|Cannot|RTNETLINK/i.test(r.stderr))) {
      console.log(
        `      skipped: cannot make a network namespace here (${(r.error?.message ?? r.stderr).trim().split('\n')[0]})`,
      );
      this.skip();
    }
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { loopback: string; other: string };
    assert.equal(result.loopback, '200', 'the server answers on 127.0.0.1');
    assert.equal(result.other, 'ECONNREFUSED', 'and refuses connections to the non-loopback address');
  });

  it('with an explicit --host, binds there and accepts that Host; warns only off loopback', async () => {
    const lines: string[] = [];
    let stop!: () => void;
    const stopSignal = new Promise<void>((r) => (stop = r));
    let srv: ViewServer | undefined;
    const done = view('test/fixtures/viztracer-generated/fib15.json', {
      host: '127.0.0.3',
      log: (l) => lines.push(l),
      printUrl: () => undefined,
      stopSignal,
      onListening: (s) => (srv = s),
    });
    srv = await untilListening(done, () => srv);
    try {
      const ok = await get(srv.port, TRACE_PATH, { address: '127.0.0.3', host: `127.0.0.3:${srv.port}` });
      assert.equal(ok.status, 200);
      assert.match(ok.body, /"\$schema":"https:\/\/www\.speedscope\.app/);
      assert.equal(
        (await get(srv.port, TRACE_PATH, { address: '127.0.0.3', host: `evil.example:${srv.port}` })).status,
        421,
      );
      await assert.rejects(
        get(srv.port, TRACE_PATH, { address: '127.0.0.1', host: `127.0.0.1:${srv.port}` }),
        /ECONNREFUSED/,
      );
    } finally {
      stop();
      await done;
    }
    // 127.0.0.3 is loopback: no exposure warning, but the Perfetto hint is printed.
    assert.ok(!lines.some((l) => l.startsWith('warning')), lines.join('\n'));
    assert.ok(lines.some((l) => /viz convert .* --to perfetto/.test(l)));
    for (const h of ['127.0.0.1', '127.0.0.3', 'localhost', '::1']) assert.ok(isLoopback(h), h);
    for (const h of ['0.0.0.0', '::', '192.0.2.7', 'example.org', '127.0.0.1.example.org'])
      assert.ok(!isLoopback(h), h);
  });

  it('view(): serves the converted trace, --once stops after it was delivered', async () => {
    let srv: ViewServer | undefined;
    const done = view('test/fixtures/viztracer-generated/fib15.json', {
      once: true,
      log: () => undefined,
      printUrl: () => undefined,
      stopSignal: new Promise(() => undefined),
      onListening: (s) => (srv = s),
    });
    srv = await untilListening(done, () => srv);
    const r = await get(srv.port, TRACE_PATH);
    assert.equal(r.status, 200);
    const doc = JSON.parse(r.body) as { profiles: { name: string }[] };
    assert.equal(doc.profiles[0]!.name, 'MainProcess (pid 8110) / MainThread (tid 8110)');
    const result = await done;
    assert.equal(result.inputFormat, 'chrome');
    assert.ok(result.events > 0);
    await assert.rejects(get(srv.port, '/'), /ECONNREFUSED/);
  });

  it('view(): a stop during the conversion ends it promptly and leaves no temporary files', async () => {
    const big = join(dir, 'big.json');
    const evs: string[] = [];
    for (let i = 0; i < 200_000; i++)
      evs.push(`{"ph":"X","name":"f${i % 5}","ts":${i},"dur":0.5,"pid":1,"tid":1}`);
    writeFileSync(big, `{"traceEvents":[${evs.join(',')}]}`);
    const before = readdirSync(tmpdir()).filter((f) => /^viz-(view|speedscope)-/.test(f));
    let stop!: () => void;
    const result = await view(big, {
      log: () => undefined,
      printUrl: () => undefined,
      stopSignal: new Promise<void>((r) => (stop = r)),
      onListening: () => stop(),
    });
    assert.equal(result.stopped, true);
    assert.equal(result.events, 0, 'the conversion did not finish');
    const after = readdirSync(tmpdir()).filter((f) => /^viz-(view|speedscope)-/.test(f));
    assert.deepEqual(after, before);
  });

  it('view(): a file already in speedscope format is served and exported as it is', async () => {
    const ss = join(dir, 'already.speedscope.json');
    writeFileSync(ss, traceBody);
    let srv: ViewServer | undefined;
    const done = view(ss, {
      once: true,
      log: () => undefined,
      printUrl: () => undefined,
      stopSignal: new Promise(() => undefined),
      onListening: (s) => (srv = s),
    });
    srv = await untilListening(done, () => srv);
    assert.equal((await get(srv.port, TRACE_PATH)).body, traceBody);
    assert.equal((await done).inputFormat, 'speedscope');
    const out = join(dir, 'already.html');
    await view(ss, { export: out });
    const html = readFileSync(out, 'utf8');
    const b64 = /<script id="viz-profile" type="application\/octet-stream">([\s\S]*?)<\/script>/.exec(
      html,
    )![1]!;
    assert.equal(Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString('utf8'), traceBody);
  });

  it('auto view: Left Heavy only for very large traces', () => {
    assert.equal(speedscopeView('auto', 1000), undefined);
    assert.equal(speedscopeView('auto', 2_000_000), 'left-heavy');
    assert.equal(speedscopeView('time-order', 2_000_000), 'time-ordered');
    assert.equal(speedscopeView('sandwich', 0), 'sandwich');
  });

  it('view --export writes a self-contained report', async () => {
    const out = join(dir, 'r.html');
    const result = await view('test/fixtures/viztracer-generated/fib15.json', { export: out });
    assert.equal(result.exported, out);
    const html = readFileSync(out, 'utf8');
    assert.ok(!/<script[^>]+src=/.test(html), 'no external script');
    assert.ok(!/<link[^>]+href="(?!data:)/.test(html), 'no external style sheet or icon');
    assert.ok(!/url\((?!"?data:)/.test(html.slice(0, html.indexOf('</style>'))), 'fonts inlined');
    const b64 = /<script id="viz-profile" type="application\/octet-stream">([\s\S]*?)<\/script>/.exec(
      html,
    )![1]!;
    const doc = JSON.parse(Buffer.from(b64.replace(/\s+/g, ''), 'base64').toString('utf8')) as {
      shared: { frames: { name: string }[] };
    };
    assert.ok(doc.shared.frames.some((f) => f.name === 'fib'));
    // Only one `</script` per script element: the inlined bundle cannot end its element early.
    assert.equal(html.match(/<\/script/gi)!.length, html.match(/<script/gi)!.length);
  });
});
