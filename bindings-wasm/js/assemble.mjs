// Assemble the npm package `tablesync` in <pkg> from the JS sources here and
// the wasm-bindgen outputs already in <pkg>/node and <pkg>/web.
// Usage: node assemble.mjs <pkg-dir> <version> [readme.md]
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [pkg, version, readme] = process.argv.slice(2);
if (!pkg || !version) {
  console.error('usage: node assemble.mjs <pkg-dir> <version> [readme.md]');
  process.exit(2);
}

for (const dir of ['node', 'web']) {
  if (!existsSync(join(pkg, dir, 'tablesync_wasm.js'))) {
    console.error(`missing ${dir}/tablesync_wasm.js: run wasm-bindgen first`);
    process.exit(1);
  }
  // The package ships its own hand-written types.
  for (const f of readdirSync(join(pkg, dir))) {
    if (f.endsWith('.d.ts')) rmSync(join(pkg, dir, f));
  }
}

// api.mjs as is for browsers; a CommonJS copy for Node. The source has one
// export, `export function createApi(`; anything else is a build error.
const api = readFileSync(join(here, 'api.mjs'), 'utf8');
const exportLines = api.split('\n').filter((l) => /^\s*export\b/.test(l));
if (exportLines.length !== 1 || !exportLines[0].startsWith('export function createApi(')) {
  console.error(`api.mjs must have exactly one export, 'export function createApi(', found: ${JSON.stringify(exportLines)}`);
  process.exit(1);
}
// wire.mjs (the row fast path's codec) goes inline, ahead of the API: its
// one export, `export function createWireCodec(`, becomes a plain function.
const wireSrc = readFileSync(join(here, 'wire.mjs'), 'utf8');
const wireExports = wireSrc.split('\n').filter((l) => /^\s*export\b/.test(l));
if (wireExports.length !== 1 || !wireExports[0].startsWith('export function createWireCodec(')) {
  console.error(`wire.mjs must have exactly one export, 'export function createWireCodec(', found: ${JSON.stringify(wireExports)}`);
  process.exit(1);
}
const wire0 = wireSrc.replace(/^export function createWireCodec\(/m, 'function createWireCodec(');
// link.mjs (replication links over fetch) the same way.
const linkSrc = readFileSync(join(here, 'link.mjs'), 'utf8');
const linkExports = linkSrc.split('\n').filter((l) => /^\s*export\b/.test(l));
if (linkExports.length !== 1 || !linkExports[0].startsWith('export function createLinkApi(')) {
  console.error(`link.mjs must have exactly one export, 'export function createLinkApi(', found: ${JSON.stringify(linkExports)}`);
  process.exit(1);
}
// cluster.mjs (the cluster client over fetch) the same way.
const clusterSrc = readFileSync(join(here, 'cluster.mjs'), 'utf8');
const clusterExports = clusterSrc.split('\n').filter((l) => /^\s*export\b/.test(l));
if (clusterExports.length !== 1 || !clusterExports[0].startsWith('export function createClusterApi(')) {
  console.error(`cluster.mjs must have exactly one export, 'export function createClusterApi(', found: ${JSON.stringify(clusterExports)}`);
  process.exit(1);
}
const wire = `${wire0}\n${linkSrc.replace(/^export function createLinkApi\(/m, 'function createLinkApi(')}\n${clusterSrc.replace(/^export function createClusterApi\(/m, 'function createClusterApi(')}`;
writeFileSync(join(pkg, 'api.mjs'), `${wire}\n${api}`);
writeFileSync(
  join(pkg, 'api.cjs'),
  `'use strict';\n${wire}\n${api.replace('export function createApi(', 'function createApi(')}\nmodule.exports = { createApi };\n`,
);

copyFileSync(join(here, 'node-entry.cjs'), join(pkg, 'node', 'index.cjs'));
copyFileSync(join(here, 'node-entry.mjs'), join(pkg, 'node', 'index.mjs'));
copyFileSync(join(here, 'web-entry.mjs'), join(pkg, 'web', 'index.mjs'));
// wasm-bindgen's web output is an ES module with a .js name.
writeFileSync(join(pkg, 'web', 'package.json'), '{ "type": "module" }\n');

const types = readFileSync(join(here, 'tablesync.d.ts'), 'utf8');
writeFileSync(join(pkg, 'index.d.mts'), types);
writeFileSync(join(pkg, 'index.d.cts'), types);

const manifest = readFileSync(join(here, 'package.template.json'), 'utf8').replace('@VERSION@', version);
JSON.parse(manifest); // fail the build on a broken template
writeFileSync(join(pkg, 'package.json'), manifest);

if (readme && existsSync(readme)) {
  copyFileSync(readme, join(pkg, 'README.md'));
} else {
  writeFileSync(join(pkg, 'README.md'), '# tablesync\n\nSee docs/js-quickstart.md in the tablesync repository.\n');
}
console.log(`assembled ${pkg} (tablesync ${version})`);
