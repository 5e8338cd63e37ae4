// The public entry points of the API reference, read from package.json `exports`: each subpath's `types` file in
// dist/ (written by scripts/build.mjs) re-exports one source file under bindings/, which TypeDoc documents.
// A subpath added to `exports` (e.g. `./infer`) is picked up here with no other change.

import { existsSync, readFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;

/** Subpaths that are not JavaScript APIs: the raw Wasm binaries (typed as a WebAssembly.Module) and package.json. */
const NOT_AN_API = (subpath) => subpath.endsWith('.wasm') || subpath === './package.json';

/**
 * The entries as `{ subpath, name, source }`: `name` is the import specifier (`looptree`, `looptree/onnx`), `source`
 * the repo-relative .ts file behind it. Throws when dist/ is not built, or when a subpath's types file does not
 * re-export a single bindings/ source (a new entry shape this resolver must learn, rather than an entry left out).
 */
export function docEntries() {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  const entries = [];
  for (const [subpath, conditions] of Object.entries(pkg.exports)) {
    if (NOT_AN_API(subpath)) continue;
    const types = typeof conditions === 'object' ? conditions.types : undefined;
    if (typeof types !== 'string') throw new Error(`package.json exports["${subpath}"] has no "types" condition to document`);
    const typesFile = `${root}${types.replace(/^\.\//, '')}`;
    if (!existsSync(typesFile)) throw new Error(`${types} (exports["${subpath}"]) does not exist: run \`npm run build\` first`);
    const match = /^export \* from '\.\/types\/(.+)\.js';$/m.exec(readFileSync(typesFile, 'utf8'));
    if (!match) throw new Error(`${types} (exports["${subpath}"]) does not re-export one source file ("export * from './types/….js'")`);
    const source = `${match[1]}.ts`;
    if (!existsSync(`${root}${source}`)) throw new Error(`${types} re-exports ${source}, which does not exist`);
    entries.push({ subpath, name: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source });
  }
  return entries;
}
