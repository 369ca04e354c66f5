// docs/js-quickstart.md runs as written: each ```js block is run with node
// (ES module, or CommonJS when it uses require) and every `// → output`
// comment on a console.log line must match what that line printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const doc = readFileSync(resolve(here, '..', '..', '..', 'docs', 'js-quickstart.md'), 'utf8');
const readme = readFileSync(resolve(here, '..', '..', '..', 'README.md'), 'utf8');
// The README's JS blocks run the same way as the guide's.
const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g), ...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

test('the quickstart has code blocks', () => {
  assert.ok(blocks.length >= 2);
});

blocks.forEach((code, i) => {
  test(`quickstart block ${i + 1} runs and prints what it says`, () => {
    const cjs = /\brequire\(/.test(code);
    // Inside tests/js so that `tablesync` resolves to the built package.
    const file = join(here, '..', `.quickstart-${i}.${cjs ? 'cjs' : 'mjs'}`);
    writeFileSync(file, code);
    let out;
    try {
      out = execFileSync('node', [file], { encoding: 'utf8' });
    } finally {
      rmSync(file, { force: true });
    }
    const expected = code
      .split('\n')
      .filter((l) => l.includes('console.log(') && l.includes('// →'))
      .map((l) => l.split('// →')[1].trim());
    const printed = out.trimEnd().split('\n');
    assert.equal(printed.length, code.split('\n').filter((l) => l.includes('console.log(')).length,
      `every console.log prints one line:\n${out}`);
    const logLines = code.split('\n').filter((l) => l.includes('console.log('));
    logLines.forEach((l, j) => {
      if (l.includes('// →')) assert.equal(printed[j], l.split('// →')[1].trim(), `line ${j + 1} of the output`);
    });
    assert.ok(expected.length > 0);
  });
});
