// Builds the package: both Wasm builds (AssemblyScript), the ESM/CJS/browser bundles (esbuild), and .d.ts types.

import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: 'inherit' });
const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url))).version;

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
for (const target of ['baseline', 'relaxed']) {
  run(process.execPath, ['node_modules/assemblyscript/bin/asc.js', 'assembly/index.ts', '--config', 'asconfig.json', '--target', target]);
}

// The importers (looptree/onnx, looptree/keras) are bundles of their own that import the core entry beside
// them instead of carrying a second copy of it (one runtime, one set of classes): every import of
// bindings/index.ts from an importer resolves to the built core file of the same format.
const IMPORTERS = ['onnx', 'keras'];
const coreAsExternal = (coreFile) => ({
  name: 'core-as-external',
  setup(build) {
    build.onResolve({ filter: /(^|\/)index\.js$/ }, (args) => {
      const resolved = new URL(args.path, `file://${args.resolveDir}/`).pathname;
      return resolved === `${root}bindings/index.js` ? { path: `./${coreFile}`, external: true } : undefined;
    });
  },
});

const common = {
  entryPoints: ['bindings/index.ts'],
  bundle: true,
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
  // Minified: a smaller bundle parses faster on import (cold start); keepNames keeps class names, which
  // error messages use ("LSTM.forward: …").
  minify: true,
  keepNames: true,
  define: { __VERSION__: JSON.stringify(version) },
};
await Promise.all([
  // Node: reads the .wasm next to the bundle with node:fs.
  build({ ...common, outfile: 'dist/index.js', format: 'esm', platform: 'node', define: { ...common.define, __NODE__: 'true' } }),
  build({
    ...common, outfile: 'dist/index.cjs', format: 'cjs', platform: 'node',
    define: { ...common.define, __NODE__: 'true', 'import.meta.url': 'importMetaUrl' },
    banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  }),
  // Browsers, workers and edge runtimes: fetches the .wasm by URL, or takes init({ module }).
  build({ ...common, outfile: 'dist/browser.js', format: 'esm', platform: 'neutral', define: { ...common.define, __NODE__: 'false' } }),
  ...IMPORTERS.flatMap((name) => {
    const entry = { ...common, entryPoints: [`bindings/io/${name}/index.ts`] };
    return [
      build({ ...entry, outfile: `dist/${name}.js`, format: 'esm', platform: 'node', plugins: [coreAsExternal('index.js')] }),
      build({ ...entry, outfile: `dist/${name}.cjs`, format: 'cjs', platform: 'node', plugins: [coreAsExternal('index.cjs')] }),
      build({ ...entry, outfile: `dist/${name}.browser.js`, format: 'esm', platform: 'neutral', plugins: [coreAsExternal('browser.js')] }),
    ];
  }),
]);

run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json']);
// One declaration entry beside the bundles, so `dist/index.js` (and `.cjs`) resolve their types.
writeFileSync(new URL('../dist/index.d.ts', import.meta.url), "export * from './types/index.js';\n");
for (const name of IMPORTERS) writeFileSync(new URL(`../dist/${name}.d.ts`, import.meta.url), `export * from './types/io/${name}/index.js';\n`);
