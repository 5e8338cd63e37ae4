// A Node user's CommonJS script, installed by test/packaging/bundlers.test.ts beside the packed looptree: as node.mjs, with require('looptree') (the probe itself is an ES module, loaded with import()).

const { readFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const looptree = require('looptree');

const [fixtureFile, weightsFile] = process.argv.slice(2);
const fixture = JSON.parse(readFileSync(fixtureFile, 'utf8'));
import('./probe.mjs').then(async ({ runProbe }) => {
  const result = await runProbe(looptree, { fixture, weights: readFileSync(weightsFile) });
  console.log(JSON.stringify({ entry: pathToFileURL(require.resolve('looptree')).href, result }));
});
