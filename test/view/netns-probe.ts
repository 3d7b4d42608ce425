/**
 * Run inside a private network namespace by server.test.ts: starts the view
 * server with its defaults and asks it for the trace through loopback and
 * through the namespace's non-loopback address (given as argv[2]). Prints one
 * JSON line: the outcome of each request.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startViewServer, TRACE_PATH } from '../../src/view/server.js';

const address = process.argv[2]!;
const dir = mkdtempSync(join(tmpdir(), 'viz-netns-'));
const trace = join(dir, 't.speedscope.json');
writeFileSync(trace, '{}');
const server = await startViewServer({ profile: async () => trace, title: 't' });

function attempt(host: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      {
        host,
        port: server.port,
        path: TRACE_PATH,
        headers: { Host: `${host}:${server.port}` },
        agent: false,
        timeout: 3000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

const result = { loopback: await attempt('127.0.0.1'), other: await attempt(address) };
await server.close();
process.stdout.write(JSON.stringify(result) + '\n');
