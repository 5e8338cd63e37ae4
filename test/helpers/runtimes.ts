// Test helper of test/runtimes: the optional dependencies of the runtime tests (installed into test/runtimes by `npm ci --prefix test/runtimes`), a static file server and a headless Chromium session for the browser, and the fixture case every runtime runs.

import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { expectClose, loadFixture, type FixtureTensor, type Tolerance } from './fixtures.js';

export const REPO_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RUNTIMES_DIR = path.join(REPO_DIR, 'test', 'runtimes');

/**
 * Why a runtime test cannot run here ('' when it can). CI sets LOOPTREE_REQUIRE_RUNTIMES=1 after installing
 * Chromium and test/runtimes' packages, and there a missing piece fails the run instead of skipping.
 */
export function unavailable(reasons: Array<string | false>): string {
  const reason = reasons.filter(Boolean).join('; ');
  if (reason && process.env.LOOPTREE_REQUIRE_RUNTIMES === '1') throw new Error(`LOOPTREE_REQUIRE_RUNTIMES=1 but ${reason}`);
  return reason;
}

/** A package from test/runtimes/node_modules, or null when it is not installed. */
export async function runtimePackage<T = any>(name: string): Promise<T | null> {
  let resolved: string;
  try {
    resolved = createRequire(path.join(RUNTIMES_DIR, 'package.json')).resolve(name);
  } catch {
    return null;
  }
  return (await import(pathToFileURL(resolved).href)) as T;
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

/** Serves dist/, test/runtimes/ and test/fixtures/ of the repository on 127.0.0.1 (a free port). */
export async function serveRepository(): Promise<{ url: string; close: () => Promise<void> }> {
  const allowed = ['dist', 'test/runtimes', 'test/fixtures'].map((dir) => path.join(REPO_DIR, dir) + path.sep);
  const server: Server = createServer((request, response) => {
    const file = path.join(REPO_DIR, decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    if (!allowed.some((dir) => file.startsWith(dir)) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * Headless Chromium and a server of the repository (serveRepository) for the tests of one describe block: started in
 * its beforeAll, closed in its afterAll. Read `browser` and `url` inside the tests.
 */
export function chromiumSession(playwright: any, executablePath: string): { readonly browser: any; readonly url: string } {
  const session = { browser: undefined as any, url: '' };
  let server: Awaited<ReturnType<typeof serveRepository>> | undefined;
  beforeAll(async () => {
    server = await serveRepository();
    session.url = server.url;
    session.browser = await playwright.chromium.launch({
      executablePath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
  }, 60_000);
  afterAll(async () => {
    await session.browser?.close();
    await server?.close();
  });
  return session;
}

/** The case every runtime runs: a 2-layer bidirectional batch-first LSTM with h0/c0, weights from .safetensors. */
export const PROBE_CASE = 'lstm_l2_bidir_bf';

export interface ProbeResult {
  simd: 'baseline' | 'relaxed';
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
