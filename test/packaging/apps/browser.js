// The browser app that test/packaging/bundlers.test.ts builds with each bundler: looptree and looptree/infer imported by
// their package names, as a user does; window.looptreeProbe (as in test/runtimes/page.js) runs the runtime tests' probe,
// copied beside this file, on a fixture served from ./fixture/ through both entries, and gives the full entry's result
// if looptree/infer's is the same, an error otherwise.

import * as looptree from 'looptree';
import * as inference from 'looptree/infer';
import { fetchFixture, runProbe } from './probe.js';

window.looptreeProbe = async ({ caseName, init }) => {
  const files = await fetchFixture(new URL('fixture/', location.href).href, caseName);
  const result = await runProbe(looptree, { init, ...files });
  const inferResult = await runProbe(inference, { init, ...files });
  if (JSON.stringify(inferResult) !== JSON.stringify(result)) return { error: 'looptree/infer and looptree gave different results' };
  return { result };
};
