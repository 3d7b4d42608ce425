'use strict';
// A process tree: this parent forks two Node.js children (`child a`, `child b`); child b spawns a
// grandchild with a custom environment (no NODE_OPTIONS: viz record re-injects its preload).
const { fork, spawn } = require('node:child_process');

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function runGrandchild() {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH, GRANDCHILD: '1' };
    const p = spawn(process.execPath, [__filename, 'grandchild'], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => resolve(`${out.trim()} (exit ${code})`));
  });
}

async function child(name) {
  const value = fib(name === 'a' ? 12 : 13);
  const extra = name === 'b' ? `; grandchild: ${await runGrandchild()}` : '';
  process.send(`child ${name}: fib = ${value}${extra}`);
}

function forkChild(name) {
  return new Promise((resolve) => {
    const c = fork(__filename, ['child', name]);
    let message = '';
    c.on('message', (m) => (message = m));
    c.on('exit', (code) => resolve(`${message} (exit ${code})`));
  });
}

async function parent() {
  const results = await Promise.all([forkChild('a'), forkChild('b')]);
  for (const r of results) console.log(r);
  console.log(`parent: fib = ${fib(10)}`);
}

const [role, name] = process.argv.slice(2);
if (role === 'child') child(name);
else if (role === 'grandchild')
  console.log(`grandchild: fib = ${fib(11)}, env GRANDCHILD=${process.env.GRANDCHILD}`);
else parent();
