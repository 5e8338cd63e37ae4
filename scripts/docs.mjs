// Builds the API reference with TypeDoc (`npm run docs` → docs/api/), or with `--check` only validates it (what
// test/docs.test.ts runs): every public export of every package.json `exports` entry must have a doc comment.
// Prints each missing one by name and exits 1. Configuration: typedoc.config.mjs.

import { Application, TSConfigReader, TypeDocReader } from 'typedoc';
import { docEntries } from './doc-entries.mjs';

const check = process.argv.includes('--check');
// `--options <file>`: another TypeDoc configuration (the test's fixture of undocumented exports); its modules keep
// TypeDoc's names.
const optionsIndex = process.argv.indexOf('--options');
const optionsFile = optionsIndex >= 0 ? process.argv[optionsIndex + 1] : undefined;
const UNDOCUMENTED = /,? does not have any documentation$/;
// Members of an anonymous object type — TypeDoc names them `….__type.member`: the fields of a return type such as
// evaluate()'s `{ loss, accuracy }`, of one arm of a union type — are described by the doc comment of the declaration
// that holds them, which is itself checked. TypeDoc reads a member's own comment only from a line of its own, and
// those types are written on one line.
const ANONYMOUS_MEMBER = /\.__type\./;

const started = Date.now();
const app = await Application.bootstrapWithPlugins(optionsFile ? { options: optionsFile } : {}, [new TypeDocReader(), new TSConfigReader()]);
const problems = [];
// Validation warnings are collected and reported together below (the rest of TypeDoc's output prints as usual).
app.logger.validationWarning = (message) => {
  if (!(UNDOCUMENTED.test(message) && ANONYMOUS_MEMBER.test(message))) problems.push(message);
};

const project = await app.convert();
if (!project) {
  console.error('docs: TypeDoc could not convert the sources (errors above)');
  process.exit(1);
}
// One module per entry point, named as users import it (`looptree/onnx`), each exporting something: an entry
// resolved to the wrong file would pass vacuously.
const entries = optionsFile ? [] : docEntries();
const entryPoints = app.options.getValue('entryPoints');
// (With a single entry point, TypeDoc puts its exports at the top level: the project is the module.)
const modules = entryPoints.length === 1 ? [project] : project.children ?? [];
if (modules.length !== entryPoints.length) problems.push(`expected one module per entry point (${entryPoints.join(', ')}), got ${modules.length}`);
for (const module of modules) {
  const file = module.sources?.[0]?.fullFileName ?? '';
  const entry = entries.find((candidate) => file.endsWith(`/${candidate.source}`));
  if (entry) module.name = entry.name;
  if (!module.children?.length) problems.push(`module ${module.name} documents no exports`);
}
app.validate(project);

const undocumented = problems.filter((message) => UNDOCUMENTED.test(message));
if (undocumented.length > 0) {
  console.error(`\ndocs: ${undocumented.length} public export(s) without a doc comment (add /** … */ above the declaration):`);
  for (const message of undocumented) console.error(`  ${message.replace(UNDOCUMENTED, '')}`);
}
const others = problems.filter((message) => !UNDOCUMENTED.test(message));
if (others.length > 0) console.error(`\ndocs: ${others.length} other problem(s):\n  ${others.join('\n  ')}`);
if (problems.length > 0 || app.logger.hasErrors()) process.exit(1);

if (!check) await app.generateDocs(project, app.options.getValue('out'));
const names = modules.map((module) => module.name).join(', ');
console.log(`docs: ${modules.length} entry points (${names}), every public export documented${check ? '' : `; written to ${app.options.getValue('out')}/`} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
