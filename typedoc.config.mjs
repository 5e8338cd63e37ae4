// TypeDoc configuration of the API reference (`npm run docs` → docs/api/, not committed): one module per public
// entry of package.json `exports` (scripts/doc-entries.mjs), built from the doc comments of the sources.
// Run through scripts/docs.mjs, where a public export without a doc comment fails the build and test/docs.test.ts.

import { docEntries } from './scripts/doc-entries.mjs';

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'looptree',
  entryPoints: docEntries().map((entry) => entry.source),
  tsconfig: 'tsconfig.build.json',
  out: 'docs/api',
  readme: 'none',
  excludePrivate: true,
  excludeProtected: true, // protected members are the modules' internals (parameter store, saved activations), not API
  excludeInternal: true,
  excludeExternals: true,
  sort: ['source-order'],
  // The build's tsc already type-checks the sources: skipping TypeScript's diagnostics here saves most of the time.
  skipErrorChecking: true,
  // scripts/docs.mjs (`npm run docs`, and the test) turns every validation warning into a failure.
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  // Referenced by a public type but not exported by its entry (shown by name, unlinked). Exporting it from
  // bindings/io/onnx/index.ts would be the better fix; a new name here should be the exception.
  intentionallyNotExported: ['IntegerDType'],
};
