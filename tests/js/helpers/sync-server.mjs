// Starts a tablesync HTTP server hosting a durable region in a directory,
// on 127.0.0.1 with a free port, for the Node and browser sync tests.
//
// Which server: the Rust example `serve_dir` of the `tablesync-http` crate
// (default), or with TABLESYNC_SERVER=cli the CLI's `tablesync serve`.
// The binary is $TABLESYNC_SERVE_BIN if set, else whatever `cargo build`
// produces (a no-op when scripts/test-js has built it already).
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const KIND = process.env.TABLESYNC_SERVER === 'cli' ? 'cli' : 'example';
let binary = process.env.TABLESYNC_SERVE_BIN || null;

/** Path of the server binary, built by cargo if needed. */
export function serverBinary() {
  if (binary) return binary;
  const [target, name] = KIND === 'cli'
    ? [['-p', 'tablesync-cli', '--bin', 'tablesync'], 'tablesync']
    : [['-p', 'tablesync-http', '--example', 'serve_dir'], 'serve_dir'];
  const out = execFileSync('cargo', ['build', ...target, '--message-format=json-render-diagnostics'],
    { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const msg = JSON.parse(line);
    if (msg.reason === 'compiler-artifact' && msg.target?.name === name && msg.executable) {
      binary = msg.executable;
    }
  }
  if (!binary) throw new Error(`cargo did not report the ${name} executable`);
  return binary;
}

function serverArgs(dir, token) {
  return KIND === 'cli'
    ? ['serve', dir, '--listen', '127.0.0.1:0', '--token', token]
    : [dir, token, '127.0.0.1:0'];
}

/**
 * Serve the region in `dir` with `token`; resolves to `{ url, pid, stop() }`
 * once the server prints its URL (`LISTENING <url>`, or the CLI's
 * `serving region … at <url>`).
 */
export function startServer(dir, token) {
  const child = spawn(serverBinary(), serverArgs(dir, token), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      child.kill();
      rejectStart(new Error(`the server did not start in 60 s: ${stderr}`));
    }, 60_000);
    exited.then(({ code }) => {
      clearTimeout(timer);
      rejectStart(new Error(`the server exited (${code}) before listening: ${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /(?:^LISTENING | at )(http:\/\/\S+)/.exec(line);
      if (!m) return;
      clearTimeout(timer);
      resolveStart({
        url: m[1],
        pid: child.pid,
        /** Stop this server (only this child process) and wait for it to exit. */
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
