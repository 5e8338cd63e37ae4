// The playground (playground/): builds it with esbuild into playground/dist/ and serves it on 127.0.0.1 with the
// cross-origin-isolation headers (COOP/COEP, so SharedArrayBuffer and threads work where they exist).
// Run: npm run playground [-- --port 8080] [-- --build-only]. The Benchmark panel's peers (onnxruntime-web, TF.js wasm)
// come from bench/node_modules (npm ci --prefix bench); without them the panel runs looptree alone and says so.

import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIR = path.join(REPO_DIR, 'playground');
export const OUT_DIR = path.join(SOURCE_DIR, 'dist');
const BENCH_MODULES = path.join(REPO_DIR, 'bench', 'node_modules');

/** Whether the benchmark peers are installed (bench/node_modules). */
export function peersInstalled() {
  return ['onnxruntime-web', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'].every((name) => existsSync(path.join(BENCH_MODULES, name, 'package.json')));
}

/**
 * bench/peers.mjs in the browser: its Node imports (fs, path, url) are only used to locate files and load packages,
 * which the playground's worker does itself, so they become stubs; brain.js and onnxruntime-node are never loaded.
 */
const nodeStubs = {
  name: 'node-stubs',
  setup(builder) {
    const stubs = {
      'node:fs': 'export const existsSync = () => false; export const readFileSync = () => { throw new Error("no file system in the browser"); };',
      'node:path': 'const dirname = (p) => p.replace(/\\/[^/]*$/, ""); const join = (...parts) => parts.join("/"); export default { dirname, join };',
      'node:url': 'export const fileURLToPath = (url) => String(url); export const pathToFileURL = (p) => ({ href: p });',
    };
    builder.onResolve({ filter: /^node:(fs|path|url)$/ }, (args) => ({ path: args.path, namespace: 'node-stub' }));
    builder.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({ contents: stubs[args.path], loader: 'js' }));
    builder.onResolve({ filter: /^(brain\.js|onnxruntime-node|onnxruntime-web)$/ }, (args) => ({ path: args.path, external: true }));
    if (!peersInstalled()) builder.onResolve({ filter: /^@tensorflow\// }, (args) => ({ path: args.path, external: true }));
  },
};

/** Builds playground/dist: the page, its workers (ES modules, shared chunks), the Wasm builds and the data. */
export async function buildPlayground({ quiet = false } = {}) {
  const library = path.join(REPO_DIR, 'dist', 'browser.js');
  if (!existsSync(library)) throw new Error('dist/browser.js is missing: run `npm run build` first');
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(path.join(OUT_DIR, 'data'), { recursive: true });
  await build({
    entryPoints: ['main', 'train-worker', 'gradients-worker', 'bench-worker'].map((name) => path.join(SOURCE_DIR, 'src', `${name}.ts`)),
    outdir: OUT_DIR,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    alias: { looptree: library },
    nodePaths: [BENCH_MODULES],
    define: { PEERS_INSTALLED: String(peersInstalled()) },
    plugins: [nodeStubs],
    logLevel: quiet ? 'error' : 'warning',
  });
  copyFileSync(path.join(SOURCE_DIR, 'index.html'), path.join(OUT_DIR, 'index.html'));
  // Both SIMD builds, each also as the threads build init() picks in a cross-origin-isolated page.
  for (const simd of ['baseline', 'relaxed']) {
    for (const file of [`looptree-${simd}.wasm`, `looptree-${simd}-threads.wasm`]) copyFileSync(path.join(REPO_DIR, 'dist', file), path.join(OUT_DIR, file));
  }
  copyFileSync(path.join(REPO_DIR, 'examples', 'data', 'pride-and-prejudice-ch1-2.txt'), path.join(OUT_DIR, 'data', 'pride-and-prejudice.txt'));
  cpSync(path.join(SOURCE_DIR, 'data'), path.join(OUT_DIR, 'data'), { recursive: true });
}

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8', '.map': 'application/json', '.css': 'text/css', '.png': 'image/png',
};

/** The file a URL path names: playground/dist/…, or bench/node_modules/… under /bench/node_modules/ (the peers' Wasm). */
function fileFor(pathname) {
  const [root, rest] = pathname.startsWith('/bench/node_modules/')
    ? [BENCH_MODULES, pathname.slice('/bench/node_modules/'.length)]
    : [OUT_DIR, pathname === '/' ? 'index.html' : pathname.slice(1)];
  const file = path.resolve(root, rest);
  if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) return undefined;
  return file;
}

/** Serves the built playground on 127.0.0.1:`port` (0: a free port) with COOP/COEP; resolves to { url, close() }. */
export async function servePlayground({ port = 0 } = {}) {
  const server = createServer((request, response) => {
    const file = fileFor(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    const headers = {
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin',
      'cache-control': 'no-store',
    };
    if (!file) {
      response.writeHead(404, headers).end('not found');
      return;
    }
    response.writeHead(200, { ...headers, 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const url = `http://127.0.0.1:${server.address().port}/`;
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const portAt = process.argv.indexOf('--port');
  const port = portAt > 0 ? Number(process.argv[portAt + 1]) : 8080;
  await buildPlayground();
  if (!peersInstalled()) console.log('Benchmark peers not installed (npm ci --prefix bench): the Benchmark panel will run looptree alone.');
  if (!process.argv.includes('--build-only')) {
    const { url } = await servePlayground({ port });
    console.log(`looptree playground: ${url}  (Ctrl-C to stop)`);
  }
}
