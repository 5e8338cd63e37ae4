// The `looptree` command (package.json "bin"): bench, info and convert, run from the installed package as
// dist/cli.js (bundled by scripts/build.mjs; the library itself is imported from the bundles beside it).
// Usage errors and failures print one line on stderr and exit 1.

import { parseArgs } from 'node:util';
import { BENCH } from './bench.mjs';
import { CONVERT, INFO } from './model-files.mjs';
import { UsageError, closest } from './usage.mjs';

const COMMANDS = { bench: BENCH, info: INFO, convert: CONVERT };
const VERSION = __VERSION__; // the package version, set by scripts/build.mjs

const MAIN_HELP = `looptree ${VERSION}: recurrent and tree neural networks on WebAssembly SIMD

Usage: looptree <command> [options]

Commands:
${Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(9)}${command.summary}`).join('\n')}

Run \`looptree <command> --help\` for a command's options.`;

/** `--name` and its description, for a command's help. */
function helpOf(name, command) {
  const lines = Object.entries(command.options).map(([option, spec]) => {
    const flag = `--${option}${spec.type === 'string' ? ` <${spec.valueName ?? 'value'}>` : ''}`;
    return `  ${flag.padEnd(24)}${spec.description}`;
  });
  lines.push(`  ${'--help'.padEnd(24)}this help`);
  return `Usage: looptree ${name} ${command.usage}\n\n${command.summary}\n\nOptions:\n${lines.join('\n')}${command.details ? `\n\n${command.details}` : ''}`;
}

/** Parses a command's arguments strictly: unknown flags are refused naming the closest known one. */
function parseCommandArgs(name, command, args) {
  const options = { help: { type: 'boolean', short: 'h' } };
  for (const [option, spec] of Object.entries(command.options)) options[option] = { type: spec.type, ...(spec.default !== undefined && { default: spec.default }) };
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  const known = Object.keys(options);
  for (const token of tokens.filter((t) => t.kind === 'option')) {
    if (!known.includes(token.name)) {
      const suggestion = closest(token.name, known);
      throw new UsageError(`unknown option ${token.rawName}${suggestion ? ` (did you mean --${suggestion}?)` : ''}; see looptree ${name} --help`);
    }
    const type = options[token.name].type;
    if (type === 'string' && token.value === undefined) throw new UsageError(`option ${token.rawName} needs a value; see looptree ${name} --help`);
    if (type === 'boolean' && token.value !== undefined) throw new UsageError(`option ${token.rawName} takes no value, got "${token.value}"`);
  }
  const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
  return { values, positionals };
}

async function main(argv) {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(MAIN_HELP);
    return;
  }
  if (name === '--version' || name === '-v') {
    console.log(VERSION);
    return;
  }
  const command = COMMANDS[name];
  if (!command) {
    const suggestion = closest(name, Object.keys(COMMANDS));
    throw new UsageError(`unknown command "${name}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; commands: ${Object.keys(COMMANDS).join(', ')}`);
  }
  const { values, positionals } = parseCommandArgs(name, command, rest);
  if (values.help) {
    console.log(helpOf(name, command));
    return;
  }
  const [min, max] = command.positionals;
  if (positionals.length < min || positionals.length > max) {
    throw new UsageError(`expected ${command.usage.replace(/\[.*$/, '').trim() || 'no arguments'}, got ${positionals.length ? positionals.map((p) => `"${p}"`).join(' ') : 'nothing'}; see looptree ${name} --help`);
  }
  await command.run(values, positionals);
}

try {
  await main(process.argv.slice(2));
} catch (error) {
  const command = COMMANDS[process.argv[2]] ? `looptree ${process.argv[2]}` : 'looptree';
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${command}: ${message.split('\n')[0]}\n`);
  if (process.env.LOOPTREE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}
