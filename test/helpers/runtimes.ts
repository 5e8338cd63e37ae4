// Test helper of test/runtimes and test/packaging: their optional dependencies (installed by `npm ci --prefix test/runtimes` and `npm ci --prefix test/packaging`), a static file server and a headless Chromium session for the browser, and the fixture case every runtime runs.

import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { expectClose, loadFixture, type FixtureTensor, type Tolerance } from './fixtures.js';

export const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Why a runtime test cannot run here ('' when it can). CI sets LOOPTREE_REQUIRE_RUNTIMES=1 after installing
 * Chromium and test/runtimes' packages, and there a missing piece fails the run instead of skipping.
 */
export function unavailable(reasons: Array<string | false>): string {
  const reason = reasons.filter(Boolean).join('; ');
  if (reason && process.env.LOOPTREE_REQUIRE_RUNTIMES === '1') throw new Error(`LOOPTREE_REQUIRE_RUNTIMES=1 but ${reason}`);
  return reason;
}

/** Where a package of `testDir`/node_modules resolves (`name` may be a subpath), or null when it is not installed. */
export function resolveTestPackage(name: string, testDir = 'test/runtimes'): string | null {
  try {
    return createRequire(path.join(REPO_DIR, testDir, 'package.json')).resolve(name);
  } catch {
    return null;
  }
}

/** A package from `testDir`/node_modules (test/runtimes unless given), or null when it is not installed. */
export async function runtimePackage<T = any>(name: string, testDir = 'test/runtimes'): Promise<T | null> {
  const resolved = resolveTestPackage(name, testDir);
  return resolved ? ((await import(pathToFileURL(resolved).href)) as T) : null;
}

/** Chromium's executable: $CHROMIUM_PATH or Debian's /usr/bin/chromium; null when neither exists. */
export function chromiumPath(): string | null {
  const candidate = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return existsSync(candidate) ? candidate : null;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm',
  '.safetensors': 'application/octet-stream',
};

export interface FileServer {
  url: string;
  close(): Promise<void>;
}

type Mount = [prefix: string, dir: string];

/** The file a URL path names: `dir`/rest for the first mount [prefix, dir] where prefix + rest has a file; `…/` is `…/index.html`. */
function mountedFile(mounts: Mount[], pathname: string): string | undefined {
  const wanted = pathname.endsWith('/') ? `${pathname}index.html` : pathname;
  for (const [prefix, dir] of mounts) {
    if (!wanted.startsWith(prefix)) continue;
    const root = path.resolve(dir);
    const file = path.join(root, wanted.slice(prefix.length));
    if (file.startsWith(root + path.sep) && existsSync(file) && statSync(file).isFile()) return file;
  }
  return undefined;
}

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, and so looptree's threads). */
const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/**
 * Serves the files of `mounts` (mountedFile) on 127.0.0.1 (a free port); anything else is a 404. `isolated`: every
 * response carries the cross-origin isolation headers (COOP + COEP).
 */
export async function serveFiles(mounts: Mount[], isolated = false): Promise<FileServer> {
  const server: Server = createServer((request, response) => {
    const file = mountedFile(mounts, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    if (!file) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', ...(isolated ? ISOLATION_HEADERS : {}) });
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Serves dist/, test/runtimes/ and test/fixtures/ of the repository on 127.0.0.1 (a free port); `isolated`: see serveFiles. */
export function serveRepository(isolated = false): Promise<FileServer> {
  return serveFiles(['dist', 'test/runtimes', 'test/fixtures'].map((dir) => [`/${dir}/`, path.join(REPO_DIR, dir)]), isolated);
}

/** Headless Chromium for the tests of one describe block: launched in its beforeAll, closed in its afterAll. */
export function chromiumBrowser(playwright: any, executablePath: string): { readonly browser: any } {
  const session = { browser: undefined as any };
  beforeAll(async () => {
    session.browser = await playwright.chromium.launch({
      executablePath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
  }, 60_000);
  afterAll(async () => {
    await session.browser?.close();
  });
  return session;
}

/**
 * Headless Chromium (chromiumBrowser) and a server of the repository (serveRepository) for the tests of one describe
 * block (`isolated`: a cross-origin isolated server, see serveFiles). Read `browser` and `url` inside the tests.
 */
export function chromiumSession(playwright: any, executablePath: string, isolated = false): { readonly browser: any; readonly url: string } {
  const chromium = chromiumBrowser(playwright, executablePath);
  const session = { get browser() { return chromium.browser; }, url: '' };
  let server: FileServer | undefined;
  beforeAll(async () => {
    server = await serveRepository(isolated);
    session.url = server.url;
  });
  afterAll(async () => {
    await server?.close();
  });
  return session;
}

/**
 * Opens `pageUrl` in a fresh page of `browser`, waits for the page's window.looptreeProbe (test/runtimes/page.js, or
 * a bundled app of test/packaging) and returns what it gives for PROBE_CASE: the probe run in the page, or in a module
 * worker started from it.
 */
export async function probeInBrowser(browser: any, pageUrl: string, init: object, inWorker = false, probe = 'run'): Promise<ProbeResult> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error: Error) => errors.push(error.message));
  try {
    await page.goto(pageUrl);
    await page.waitForFunction(() => typeof (window as any).looptreeProbe === 'function');
    const outcome = await page.evaluate((args: object) => (window as any).looptreeProbe(args), { caseName: PROBE_CASE, init, inWorker, probe });
    if (outcome.error) throw new Error(`in Chromium${inWorker ? ' (worker)' : ''}: ${outcome.error}`);
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    return outcome.result;
  } finally {
    await page.close();
  }
}

/** The case every runtime runs: a 2-layer bidirectional batch-first LSTM with h0/c0, weights from .safetensors. */
export const PROBE_CASE = 'lstm_l2_bidir_bf';

export interface ProbeResult {
  simd: 'baseline' | 'relaxed';
  /** The threads probe (probe.js: runThreadsProbe): backendInfo().threads and threadsReason, and whether 1 thread gave the same bits. */
  threads?: number;
  threadsReason?: string | null;
  sameAtOneThread?: boolean;
  output: FixtureTensor;
  h: FixtureTensor;
  c: FixtureTensor;
  disposedError: string;
}

/** Checks a runtime's probe result against PyTorch's outputs of PROBE_CASE and the build it should have used. */
export function expectProbeMatchesTorch(where: string, result: ProbeResult, simd: 'baseline' | 'relaxed'): void {
  const fixture = loadFixture<{ outputs: Record<string, FixtureTensor>; tolerance: Tolerance }>('torch', `${PROBE_CASE}.json`);
  expect(result.simd, `${where}: SIMD build`).toBe(simd);
  expectClose(`${where}: output`, result.output, fixture.outputs.output, fixture.tolerance);
  expectClose(`${where}: h_n`, result.h, fixture.outputs.h_n, fixture.tolerance);
  expectClose(`${where}: c_n`, result.c, fixture.outputs.c_n, fixture.tolerance);
  expect(result.disposedError, `${where}: forward after dispose()`).toBe('DisposedError');
}

/**
 * A consumer project as `npm install looptree` leaves it, in a new temporary folder: node_modules/looptree holds what the
 * package publishes (package.json and the built dist/), and `files` ({ path in the project: path in the repository }, a
 * file or a folder) are copied beside it. Returns the folder; the caller removes it.
 */
export function installedProject(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'looptree-consumer-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { looptree: '*' } }));
  const installed = path.join(dir, 'node_modules/looptree');
  mkdirSync(installed, { recursive: true });
  cpSync(path.join(REPO_DIR, 'package.json'), path.join(installed, 'package.json'));
  cpSync(path.join(REPO_DIR, 'dist'), path.join(installed, 'dist'), { recursive: true });
  for (const [destination, source] of Object.entries(files)) {
    cpSync(path.join(REPO_DIR, source), path.join(dir, destination), { recursive: true });
  }
  return dir;
}
