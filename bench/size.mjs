// Cold start (fresh process: import → first W1 result) under each engine, and shipped sizes (JS min+gzip, .wasm raw and gzip) of looptree and its peers; prints tables, writes bench/results/size.json.
// Also a user's cold start of looptree's full entry against looptree/infer, phase by phase (import, init, construct,
// parse + load of a .safetensors file, first forward), ESM and CommonJS, under each Node and Deno and Bun (the
// binaries test/runtimes installs, when present).
// Usage: node bench/size.mjs [--quick] [--user-only] [--node=/path/to/node ...]   (default: this node)
// --user-only prints the full-vs-infer table alone and writes nothing.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { LOOPTREE_ENTRY, REPO_DIR, RUNNERS } from './peers.mjs';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, 'user-only': { type: 'boolean', default: false }, node: { type: 'string', multiple: true } },
});
const PROCESSES = args.quick ? 3 : 7; // fresh processes per runner and engine; the median is reported
const USER_PROCESSES = args.quick ? 5 : 15; // fresh processes per entry, format and engine in the full-vs-infer table
const NODES = args.node ?? [process.execPath];
const BENCH_DIR = import.meta.dirname;
const MODULES = path.join(BENCH_DIR, 'node_modules');
const progress = (...parts) => console.error(...parts);

// ---- cold start ----

function coldStart(node, runner) {
  const child = spawnSync(node, [path.join(BENCH_DIR, 'cold-start.mjs'), runner], { encoding: 'utf8' });
  if (child.status !== 0) {
    const lines = child.stderr.trim().split('\n');
    throw new Error(lines.find((l) => /Error\b/.test(l)) ?? `exit ${child.status}`);
  }
  return JSON.parse(child.stdout.trim().split('\n').at(-1)).ms;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// Runners interleaved per round, like the workloads.
function coldStarts(node) {
  const samples = Object.fromEntries(RUNNERS.map((r) => [r.name, []]));
  const errors = {};
  for (let round = 0; round < PROCESSES; round++) {
    for (const { name } of RUNNERS) {
      if (errors[name]) continue;
      try {
        samples[name].push(coldStart(node, name));
      } catch (error) {
        errors[name] = error.message;
      }
    }
  }
  return Object.fromEntries(RUNNERS.map(({ name }) => [name, errors[name] ? { error: errors[name] } : { ms: median(samples[name]) }]));
}

// ---- a user's cold start: full entry vs looptree/infer ----

const RUNTIMES_BIN = path.join(REPO_DIR, 'test', 'runtimes', 'node_modules', '.bin');
const USER_ENTRIES = [
  { entry: 'full', format: 'ESM', script: 'cold-start-user.mjs', file: 'dist/index.js' },
  { entry: 'infer', format: 'ESM', script: 'cold-start-user.mjs', file: 'dist/infer.js' },
  { entry: 'full', format: 'CommonJS', script: 'cold-start-user.cjs', file: 'dist/index.cjs' },
  { entry: 'infer', format: 'CommonJS', script: 'cold-start-user.cjs', file: 'dist/infer.cjs' },
];
const PHASES = ['import', 'init', 'construct', 'load', 'forward'];

/** The engines of the user table: each Node asked for, then Deno and Bun (ESM only for Deno) where installed. */
function userEngines() {
  const engines = NODES.map((node) => ({
    name: `Node ${spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim().slice(1)}`,
    command: (script) => [node, [script]],
    formats: ['ESM', 'CommonJS'],
  }));
  const deno = path.join(RUNTIMES_BIN, 'deno');
  if (existsSync(deno)) {
    engines.push({
      name: `Deno ${spawnSync(deno, ['--version'], { encoding: 'utf8' }).stdout.split(/\s+/)[1]}`,
      command: (script) => [deno, ['run', '--allow-read', '--allow-env', script]],
      formats: ['ESM'],
    });
  }
  const bun = path.join(RUNTIMES_BIN, 'bun');
  if (existsSync(bun)) {
    engines.push({
      name: `Bun ${spawnSync(bun, ['--version'], { encoding: 'utf8' }).stdout.trim()}`,
      command: (script) => [bun, [script]],
      formats: ['ESM', 'CommonJS'],
    });
  }
  return engines;
}

/** W1's LSTM (seeded) as a .safetensors file, written by the built library itself. */
async function writeWeights(dir) {
  const lt = await import(pathToFileURL(LOOPTREE_ENTRY).href);
  await lt.init();
  lt.manualSeed(1);
  const lstm = new lt.LSTM({ inputSize: 64, hiddenSize: 128 });
  const file = path.join(dir, 'w1-lstm.safetensors');
  writeFileSync(file, lt.serializeSafetensors(lstm.stateDict()));
  lstm.dispose();
  return file;
}

function userColdStartOnce(engine, { script, file }, weights) {
  const [command, prefix] = engine.command(path.join(BENCH_DIR, script));
  const child = spawnSync(command, [...prefix, path.join(REPO_DIR, file), weights], { encoding: 'utf8' });
  if (child.status !== 0) {
    const lines = `${child.stderr}`.trim().split('\n');
    throw new Error(lines.find((l) => /Error\b/.test(l)) ?? `exit ${child.status}`);
  }
  return JSON.parse(child.stdout.trim().split('\n').at(-1));
}

/**
 * The floor under any cold start on this engine (bench/cold-floor.mjs, median of USER_PROCESSES fresh processes):
 * importing an empty module, compiling and instantiating the single-thread core with no JS of ours, and what a fresh
 * page of memory costs this machine — what no change to looptree's JS can take away.
 */
function coldFloor(engine, dir) {
  const empty = path.join(dir, 'empty.mjs');
  writeFileSync(empty, '');
  const wasm = path.join(REPO_DIR, 'dist', 'looptree-baseline.wasm');
  const [command, prefix] = engine.command(path.join(BENCH_DIR, 'cold-floor.mjs'));
  const runs = [];
  for (let round = 0; round < USER_PROCESSES; round++) {
    const child = spawnSync(command, [...prefix, empty, wasm], { encoding: 'utf8' });
    if (child.status !== 0) return { error: `${child.stderr}`.trim().split('\n').at(-1) };
    runs.push(JSON.parse(child.stdout.trim().split('\n').at(-1)));
  }
  return Object.fromEntries(Object.keys(runs[0]).map((key) => [key, median(runs.map((r) => r[key]))]));
}

// Every (entry, format) interleaved per round, so that load on the machine hits full and infer alike.
async function userColdStarts() {
  const dir = mkdtempSync(path.join(tmpdir(), 'looptree-cold-'));
  try {
    const weights = await writeWeights(dir);
    const out = {};
    for (const engine of userEngines()) {
      progress(`user cold start under ${engine.name}: ${USER_PROCESSES} fresh processes per entry and format…`);
      const cases = USER_ENTRIES.filter((c) => engine.formats.includes(c.format));
      const samples = cases.map(() => []);
      const errors = cases.map(() => undefined);
      for (let round = 0; round < USER_PROCESSES; round++) {
        cases.forEach((c, i) => {
          if (errors[i]) return;
          try {
            samples[i].push(userColdStartOnce(engine, c, weights));
          } catch (error) {
            errors[i] = error.message;
          }
        });
      }
      floors[engine.name] = coldFloor(engine, dir);
      out[engine.name] = cases.map((c, i) => (errors[i] ? { ...c, error: errors[i] } : {
        entry: c.entry, format: c.format,
        ms: median(samples[i].map((r) => r.ms)),
        cpuMs: samples[i][0].cpuMs === undefined ? undefined : median(samples[i].map((r) => r.cpuMs)),
        pageFaults: samples[i][0].pageFaults === undefined ? undefined : median(samples[i].map((r) => r.pageFaults)),
        phases: Object.fromEntries(PHASES.map((p) => [p, median(samples[i].map((r) => r.phases[p]))])),
        cpuPhases: samples[i][0].cpuPhases && Object.fromEntries(PHASES.map((p) => [p, median(samples[i].map((r) => r.cpuPhases[p]))])),
      }));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- sizes ----

const sizeOf = (file, bytes = readFileSync(file)) => ({
  file: path.relative(file.startsWith(MODULES) ? MODULES : REPO_DIR, file),
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
});

// looptree: dist/index.js bundled and minified by the repo's esbuild, and each dist/*.wasm.
async function looptreeSizes(entry = LOOPTREE_ENTRY) {
  const esbuild = createRequire(path.join(REPO_DIR, 'package.json'))('esbuild');
  const { outputFiles } = await esbuild.build({
    entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'neutral',
    external: ['node:*'], write: false, logLevel: 'silent',
  });
  const dist = path.dirname(entry);
  return [
    { ...sizeOf(entry, Buffer.from(outputFiles[0].contents)), file: `${path.relative(REPO_DIR, entry)} (esbuild --minify)` },
    ...readdirSync(dist).filter((f) => f.endsWith('.wasm')).map((f) => sizeOf(path.join(dist, f))),
  ];
}

// Peers: the minified browser JS bundle and .wasm (native libraries for onnxruntime-node) each ships.
const PEER_FILES = {
  'onnxruntime-web': ['onnxruntime-web/dist/ort.wasm.bundle.min.mjs', 'onnxruntime-web/dist/ort-wasm-simd-threaded.wasm'],
  'onnxruntime-node': [`onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`, `onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/libonnxruntime.so.1`],
  'tfjs-wasm': ['@tensorflow/tfjs/dist/tf.min.js', '@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js', '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'],
  'tfjs-cpu': ['@tensorflow/tfjs/dist/tf.min.js'],
  'brain.js': ['brain.js/browser.min.js'],
};

async function sizes() {
  const out = {};
  try {
    out.looptree = await looptreeSizes();
  } catch (error) {
    out.looptree = { error: error.message };
  }
  // The inference-only entry (same .wasm builds): what an edge function that only runs models ships.
  try {
    out['looptree/infer'] = await looptreeSizes(path.join(path.dirname(LOOPTREE_ENTRY), 'infer.js'));
  } catch (error) {
    out['looptree/infer'] = { error: error.message };
  }
  // The importers are subpaths of their own: what a user who imports them loads on top of the core.
  for (const importer of ['keras', 'onnx']) {
    const file = path.join(path.dirname(LOOPTREE_ENTRY), `${importer}.js`);
    out[`looptree/${importer} (on top of the core)`] = existsSync(file) ? [sizeOf(file)] : { error: `${path.relative(REPO_DIR, file)} not found` };
  }
  for (const [name, files] of Object.entries(PEER_FILES)) {
    const paths = files.map((f) => path.join(MODULES, f));
    const missing = paths.find((p) => !existsSync(p));
    out[name] = missing ? { error: `${path.relative(MODULES, missing)} not found` } : paths.map((p) => sizeOf(p));
  }
  return out;
}

// ---- report ----

const kb = (bytes) => (bytes / 1024).toFixed(bytes < 10240 ? 1 : 0);

function markdownTable(header, rows) {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

// What one user loads: every file, but only one of several alternative .wasm builds (the largest).
function totalRow(name, files) {
  const wasm = files.filter((f) => f.file.endsWith('.wasm'));
  const loaded = [...files.filter((f) => !wasm.includes(f)), ...(wasm.length ? [wasm.reduce((a, b) => (b.gzip > a.gzip ? b : a))] : [])];
  const sum = (key) => kb(loaded.reduce((s, f) => s + f[key], 0));
  return [name, wasm.length > 1 ? '**total: JS + one .wasm**' : '**total**', sum('raw'), sum('gzip')];
}

// Engines not measured in this run keep their figures from the previous one.
const SIZE_FILE = path.join(BENCH_DIR, 'results', 'size.json');
const coldStartByEngine = existsSync(SIZE_FILE) ? JSON.parse(readFileSync(SIZE_FILE, 'utf8')).coldStart : {};
for (const node of args['user-only'] ? [] : NODES) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  progress(`cold start under Node ${version}: ${PROCESSES} fresh processes per runner…`);
  coldStartByEngine[`Node ${version.slice(1)}`] = coldStarts(node);
}
const floors = {};
const userColdStart = await userColdStarts();
if (args['user-only']) {
  console.log(`${userTable()}\n\nCPU time per phase (ms, same runs):\n\n${userCpuTable()}\n\nThe floor (no looptree JS):\n\n${floorTable()}`);
  process.exit(0);
}
const packageSizes = await sizes();

const engines = Object.keys(coldStartByEngine);
const cell = (r) => (r.error ? `failed: ${r.error}` : r.ms.toFixed(1));
function ms(x) {
  return x === undefined ? '' : x.toFixed(1);
}
/** Per engine and format: the full entry's and looptree/infer's medians, phase by phase, and how many times faster infer starts. */
function userTable() {
  const rows = [];
  for (const [engine, results] of Object.entries(userColdStart)) {
    for (const format of ['ESM', 'CommonJS']) {
      const full = results.find((r) => r.entry === 'full' && r.format === format);
      const infer = results.find((r) => r.entry === 'infer' && r.format === format);
      for (const r of [full, infer]) {
        if (!r) continue;
        const label = r.entry === 'full' ? 'looptree' : 'looptree/infer';
        rows.push(r.error
          ? [engine, format, label, `failed: ${r.error}`, '', '', '', '', '', '', '']
          : [engine, format, label, ms(r.ms), ms(r.cpuMs), ...PHASES.map((p) => ms(r.phases[p])),
            r === infer && full && !full.error ? `${(full.ms / infer.ms).toFixed(2)}×` : '']);
      }
    }
  }
  return markdownTable(['engine', 'format', 'entry', 'total', 'CPU', 'import', 'init', 'construct', 'parse + load', 'first forward', 'infer speed-up'], rows);
}

/** Per engine: the floor (bench/cold-floor.mjs) beside the pages looptree/infer's cold start first touches and their cost. */
function floorTable() {
  return markdownTable(
    ['engine', 'import of an empty module', 'core .wasm: compile', 'instantiate', 'µs per fresh page', 'pages touched (infer, ESM)', '≈ ms in page faults'],
    Object.entries(floors).map(([engine, f]) => {
      if (f.error) return [engine, `failed: ${f.error}`, '', '', '', '', ''];
      const faults = userColdStart[engine]?.find((r) => r.entry === 'infer' && r.format === 'ESM')?.pageFaults;
      return [engine, ms(f.importEmptyMs), ms(f.compileMs), ms(f.instantiateMs), ms(f.usPerPage), faults ?? '', faults === undefined ? '' : ms((faults * f.usPerPage) / 1000)];
    }),
  );
}

/** The same runs' CPU time per phase (all threads: includes V8's background JS and Wasm tier-up compiles), where the runtime reports it. */
function userCpuTable() {
  const rows = Object.entries(userColdStart).flatMap(([engine, results]) => results
    .filter((r) => !r.error && r.cpuPhases)
    .map((r) => [engine, r.format, r.entry === 'full' ? 'looptree' : 'looptree/infer', ms(r.cpuMs), ...PHASES.map((p) => ms(r.cpuPhases[p]))]));
  return markdownTable(['engine', 'format', 'entry', 'CPU total', 'import', 'init', 'construct', 'parse + load', 'first forward'], rows);
}

const lines = [
  `## Cold start: fresh process, import → first W1 result (LSTM 64→128, T100), median of ${PROCESSES} processes, ms`,
  '',
  markdownTable(['runner', ...engines], RUNNERS.map(({ name }) => [name, ...engines.map((e) => cell(coldStartByEngine[e][name]))])),
  '',
  `## Cold start of a user: fresh process, import → init → LSTM 64→128 → loadStateDict(parseSafetensors(readFileSync(file))) → first W1 result, median of ${USER_PROCESSES} processes, ms`,
  '',
  'CPU: the process\'s CPU time over the same span (all threads), where the runtime reports it.',
  '',
  userTable(),
  '',
  'CPU time per phase (ms, same runs; all threads, so V8\'s background compiles — Wasm tier-up included — count):',
  '',
  userCpuTable(),
  '',
  'The floor under it (bench/cold-floor.mjs, fresh processes, no looptree JS): importing an empty module, the core',
  '.wasm compiled and instantiated alone, and what each fresh 4 KiB page of memory first touched costs on this machine:',
  '',
  floorTable(),
  '',
  '## Size: JS minified, and .wasm (native libraries for onnxruntime-node), KiB',
  '',
  markdownTable(['package', 'file', 'raw', 'gzip'], Object.entries(packageSizes).flatMap(([name, files]) => (files.error
    ? [[name, `unavailable: ${files.error}`, '', '']]
    : [...files.map((f) => [name, f.file, kb(f.raw), kb(f.gzip)]), ...(files.length > 1 ? [totalRow(name, files)] : [])]))),
];
const doc = {
  date: new Date().toISOString(), quick: args.quick, processes: PROCESSES, coldStart: coldStartByEngine,
  userProcesses: USER_PROCESSES, userColdStart, coldFloor: floors, sizes: packageSizes,
};
mkdirSync(path.join(BENCH_DIR, 'results'), { recursive: true });
writeFileSync(SIZE_FILE, `${JSON.stringify(doc, null, 1)}\n`);
console.log(lines.join('\n'));
