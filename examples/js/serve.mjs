// Serve the browser example on http://127.0.0.1:8080/examples/browser/
// (the page imports the `web` build from /pkg/, i.e. bindings-wasm/pkg).
//   scripts/build-wasm && node examples/js/serve.mjs
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const mounts = {
  '/pkg/': resolve(here, '..', '..', 'bindings-wasm', 'pkg'),
  '/examples/': here,
};
const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const port = Number(process.env.PORT ?? 8080);

createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const prefix = Object.keys(mounts).find((p) => path.startsWith(p));
  let file = prefix && normalize(join(mounts[prefix], path.slice(prefix.length)));
  if (!file || !file.startsWith(mounts[prefix] + sep)) return res.writeHead(404).end();
  if (path.endsWith('/')) file = join(file, 'index.html');
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
}).listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/examples/browser/`));
