// Cold start (fresh process: import → first W1 result) under each engine, and shipped sizes (JS min+gzip, .wasm raw and gzip) of looptree and its peers; prints tables, writes bench/results/size.json.
// Usage: node bench/size.mjs [--quick] [--node=/path/to/node ...]   (default: this node)

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { LOOPTREE_ENTRY, REPO_DIR, RUNNERS } from './peers.mjs';

const { values: args } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, node: { type: 'string', multiple: true } },
});
const PROCESSES = args.quick ? 3 : 7; // fresh processes per runner and engine; the median is reported
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

// ---- sizes ----

const sizeOf = (file, bytes = readFileSync(file)) => ({
  file: path.relative(file.startsWith(MODULES) ? MODULES : REPO_DIR, file),
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
});

// looptree: dist/index.js bundled and minified by the repo's esbuild, and each dist/*.wasm.
async function looptreeSizes() {
  const esbuild = createRequire(path.join(REPO_DIR, 'package.json'))('esbuild');
  const { outputFiles } = await esbuild.build({
    entryPoints: [LOOPTREE_ENTRY], bundle: true, minify: true, format: 'esm', platform: 'neutral',
    external: ['node:*'], write: false, logLevel: 'silent',
  });
  const dist = path.dirname(LOOPTREE_ENTRY);
  return [
    { ...sizeOf(LOOPTREE_ENTRY, Buffer.from(outputFiles[0].contents)), file: 'dist/index.js (esbuild --minify)' },
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
for (const node of NODES) {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  progress(`cold start under Node ${version}: ${PROCESSES} fresh processes per runner…`);
  coldStartByEngine[`Node ${version.slice(1)}`] = coldStarts(node);
}
const packageSizes = await sizes();

const engines = Object.keys(coldStartByEngine);
const cell = (r) => (r.error ? `failed: ${r.error}` : r.ms.toFixed(1));
const lines = [
  `## Cold start: fresh process, import → first W1 result (LSTM 64→128, T100), median of ${PROCESSES} processes, ms`,
  '',
  markdownTable(['runner', ...engines], RUNNERS.map(({ name }) => [name, ...engines.map((e) => cell(coldStartByEngine[e][name]))])),
  '',
  '## Size: JS minified, and .wasm (native libraries for onnxruntime-node), KiB',
  '',
  markdownTable(['package', 'file', 'raw', 'gzip'], Object.entries(packageSizes).flatMap(([name, files]) => (files.error
    ? [[name, `unavailable: ${files.error}`, '', '']]
    : [...files.map((f) => [name, f.file, kb(f.raw), kb(f.gzip)]), ...(files.length > 1 ? [totalRow(name, files)] : [])]))),
];
const doc = { date: new Date().toISOString(), quick: args.quick, processes: PROCESSES, coldStart: coldStartByEngine, sizes: packageSizes };
mkdirSync(path.join(BENCH_DIR, 'results'), { recursive: true });
writeFileSync(SIZE_FILE, `${JSON.stringify(doc, null, 1)}\n`);
console.log(lines.join('\n'));
