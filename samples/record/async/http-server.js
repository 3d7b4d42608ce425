'use strict';
// An HTTP server on 127.0.0.1 handling concurrent requests: each request's handler awaits a
// "database" lookup and a render step; the client fires them all at once and prints the answers.
const http = require('node:http');
const { setTimeout: sleep } = require('node:timers/promises');

const COUNT = Number(process.argv[2] ?? 5);

async function lookup(id) {
  await sleep(5 + ((id * 7) % 11));
  return { id, name: `user${id}` };
}

async function render(user) {
  await sleep(2);
  return `hello ${user.name}`;
}

async function handleRequest(req, res) {
  const id = Number(new URL(req.url, 'http://x').searchParams.get('id'));
  const user = await lookup(id);
  const body = await render(user);
  res.end(body);
}

function get(port, id) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: `/?id=${id}` }, (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => resolve(data));
      })
      .on('error', reject);
  });
}

async function main() {
  const server = http.createServer((req, res) => {
    handleRequest(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const ids = Array.from({ length: COUNT }, (_, i) => i + 1);
  const answers = await Promise.all(ids.map((id) => get(port, id)));
  for (const a of answers) console.log(a);
  await new Promise((resolve) => server.close(resolve));
}

main().then(() => console.log('done'));
