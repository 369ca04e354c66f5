// Three `tablesync serve --cluster` processes on 127.0.0.1 (port 0: each
// picks a free port and prints its URL), datacenters eu, us and ap, with a
// map built and pushed by `tablesync cluster …`: the cluster the JS
// `Cluster` tests run against. The CLI binary is $TABLESYNC_BIN if set,
// else what `cargo build -p tablesync-cli --bin tablesync` produces (a
// no-op when scripts/test-js has built it already).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let binary = process.env.TABLESYNC_BIN || null;

/** Path of the CLI binary, built by cargo if needed. */
export function cliBinary() {
  if (binary) return binary;
  const out = execFileSync(
    'cargo',
    ['build', '-p', 'tablesync-cli', '--bin', 'tablesync', '--message-format=json-render-diagnostics'],
    {
      cwd: repo,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 << 20,
      env: { ...process.env, CARGO_INCREMENTAL: '0' },
    },
  );
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const msg = JSON.parse(line);
    if (msg.reason === 'compiler-artifact' && msg.target?.name === 'tablesync' && msg.executable) {
      binary = msg.executable;
    }
  }
  if (!binary) throw new Error('cargo did not report the tablesync executable');
  return binary;
}

/** Run the CLI to completion; its stdout (throws with stderr on failure). */
export function cli(token, ...args) {
  return execFileSync(cliBinary(), args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
    env: { ...process.env, TABLESYNC_TOKEN: token },
  });
}

/** One region process; `url` once started. */
class Region {
  constructor(dir, name, token) {
    this.dir = dir;
    this.name = name;
    this.token = token;
    this.child = null;
    this.url = '';
  }

  start() {
    const child = spawn(
      cliBinary(),
      ['--region', this.name, 'serve', this.dir, '--listen', '127.0.0.1:0', '--cluster', '--log-format', 'text'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TABLESYNC_TOKEN: this.token, TABLESYNC_LOG: 'warn' },
      },
    );
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    this.exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
    return new Promise((resolveStart, rejectStart) => {
      // Generous: a loaded 2-core machine may take long to start a debug binary.
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        rejectStart(new Error(`region ${this.name} did not start in 120 s: ${stderr}`));
      }, 120_000);
      this.exited.then(({ code }) => {
        clearTimeout(timer);
        rejectStart(new Error(`region ${this.name} exited (${code}) before listening: ${stderr}`));
      });
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /(http:\/\/\S+)/.exec(line);
        if (!m || this.url) return;
        clearTimeout(timer);
        this.url = m[1];
        resolveStart(this);
      });
    });
  }

  /** SIGKILL this region (only this child) and wait until it is gone. */
  async kill() {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
    if (this.child) await this.exited;
  }
}

/**
 * Start the cluster: regions `eu-1`, `us-1`, `ap-1` with tables `users` and
 * `events` (INTEGER key `k`); `users` hash-placed (64 buckets, rf 2,
 * semi-sync 300 ms), `events` range-placed (splits 100 and 200, rf 3,
 * sync QUORUM). Resolves to `{ regions, mapFile, stop() }`.
 */
export async function startCluster(token) {
  const base = mkdtempSync(join(tmpdir(), 'tablesync-js-cluster-'));
  const dcs = ['eu', 'us', 'ap'];
  const regions = [];
  try {
    for (const dc of dcs) {
      const name = `${dc}-1`;
      const dir = join(base, name);
      for (const t of ['users', 'events']) {
        cli(token, '--region', name, 'create-table', dir, t, '--pk', 'k:INTEGER');
      }
      regions.push(new Region(dir, name, token));
    }
    await Promise.all(regions.map((r) => r.start()));
    const mapFile = join(base, 'map.tscm');
    cli(token, 'cluster', 'init', mapFile, ...dcs.flatMap((dc, i) => ['--dc', `${dc}=${regions[i].name}@${regions[i].url}`]));
    cli(token, 'cluster', 'add-table', mapFile, 'users', '--hash', '64', '--rf', '2', '--mode', 'semi-sync:300');
    cli(token, 'cluster', 'add-table', mapFile, 'events', '--split', '100', '--split', '200', '--rf', '3',
      '--mode', 'sync:QUORUM');
    cli(token, 'cluster', 'push', mapFile);
    return {
      regions,
      mapFile,
      async stop() {
        await Promise.all(regions.map((r) => r.kill()));
        rmSync(base, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await Promise.all(regions.map((r) => r.kill()));
    rmSync(base, { recursive: true, force: true });
    throw e;
  }
}
