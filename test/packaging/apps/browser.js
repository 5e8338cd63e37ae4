// The browser app that test/packaging/bundlers.test.ts builds with each bundler: looptree imported by its package name, as a user does; window.looptreeProbe (as in test/runtimes/page.js) runs the runtime tests' probe, copied beside this file, on a fixture served from ./fixture/

import * as looptree from 'looptree';
import { fetchFixture, runProbe } from './probe.js';

window.looptreeProbe = async ({ caseName, init }) => ({
  result: await runProbe(looptree, { init, ...(await fetchFixture(new URL('fixture/', location.href).href, caseName)) }),
});
