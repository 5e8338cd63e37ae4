// A Node user's CommonJS script, installed by test/packaging/bundlers.test.ts beside the packed looptree: as node.mjs, with require('looptree') and require('looptree/infer') (the probe itself is an ES module, loaded with import()).

const { readFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
const looptree = require('looptree');
const inference = require('looptree/infer');

const [fixtureFile, weightsFile] = process.argv.slice(2);
const fixture = JSON.parse(readFileSync(fixtureFile, 'utf8'));
import('./probe.mjs').then(async ({ runProbe }) => {
  const result = await runProbe(looptree, { fixture, weights: readFileSync(weightsFile) });
  const inferResult = await runProbe(inference, { fixture, weights: readFileSync(weightsFile) });
  const inferEntry = pathToFileURL(require.resolve('looptree/infer')).href;
  console.log(JSON.stringify({ entry: pathToFileURL(require.resolve('looptree')).href, inferEntry, result, inferResult }));
});
