// Runs one example, `node scripts/example.mjs <name> [args]` → examples/<name>.ts against the built package
// (run `npm run build` first): esbuild bundles the TypeScript to a temporary .mjs in which `looptree` is
// dist/index.js and import.meta.url is the example's own URL (so examples/data/ resolves), then Node runs it.

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url);
const examples = readdirSync(new URL('examples/', root)).filter((file) => file.endsWith('.ts')).map((file) => file.slice(0, -3));
const name = process.argv[2];
if (!examples.includes(name)) {
  console.error(`usage: node scripts/example.mjs <${examples.join(' | ')}> [args]`);
  process.exit(2);
}
const library = new URL('dist/index.js', root);
if (!existsSync(library)) {
  console.error('dist/index.js is missing: run `npm run build` first');
  process.exit(2);
}

const source = new URL(`examples/${name}.ts`, root);
const outDir = mkdtempSync(join(tmpdir(), 'looptree-example-'));
const outfile = join(outDir, `${name}.mjs`);
await build({
  entryPoints: [source.pathname],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  define: { 'import.meta.url': JSON.stringify(source.href) },
  plugins: [{
    name: 'looptree-from-dist',
    setup(context) {
      context.onResolve({ filter: /^looptree$/ }, () => ({ path: library.href, external: true }));
    },
  }],
});
process.argv.splice(2, 1); // the example sees its own arguments from argv[2] on
try {
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
