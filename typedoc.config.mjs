// TypeDoc configuration of the API reference (`npm run docs` → docs/api/, not committed): one module per public
// entry of package.json `exports` (scripts/doc-entries.mjs), built from the doc comments of the sources.
// A public export without a doc comment fails the build, and test/docs.test.ts (part of `npm test`).

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
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  treatValidationWarningsAsErrors: true,
};
