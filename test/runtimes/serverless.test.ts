// examples/serverless run as deployed, in a project where looptree is installed: the Node HTTP handler as a server in a
// child process under a bounded local load (thousands of requests from concurrent clients: throughput, p50/p99 latency and
// the server's memory before and after are printed, not asserted), the Deno handler under the Deno binary, and the
// Cloudflare Worker bundled as wrangler does and run by workerd (miniflare). Every valid request must answer what a direct
// forward of looptree/infer gives, bit for bit; every invalid one 400 with the library's typed error message; an oversized
// body 413.
// Needs test/runtimes' packages (deno, miniflare: npm ci --prefix test/runtimes); each missing piece skips its tests with
// the reason, and fails them instead under LOOPTREE_REQUIRE_RUNTIMES=1 (CI).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as inference from '../../dist/infer.js';
import { seededRandom } from '../../dist/index.js';
import { REPO_DIR, installedProject, runtimePackage, unavailable } from '../helpers/runtimes.js';

const EXAMPLE = 'examples/serverless';
const config = JSON.parse(readFileSync(path.join(REPO_DIR, EXAMPLE, 'model/lstm.json'), 'utf8'));
const DENO = path.join(REPO_DIR, 'test/runtimes/node_modules/.bin/deno');
const miniflare = await runtimePackage<typeof import('miniflare')>('miniflare');
const built = existsSync(path.join(REPO_DIR, 'dist/infer.js'));
const notBuilt = !built && 'dist/ is not built (npm run build)';

// ---- the requests and what they must answer ----

type Answer = { status: number; body: any };

/** Valid inputs of several shapes ([B, T, I] and unbatched [T, I]), seeded, each with the direct forward's output and h. */
function validCases(count: number): Array<{ text: string; expected: Answer }> {
  const random = seededRandom(13);
  const lstm = new inference.LSTM(config);
  lstm.loadStateDict(inference.parseSafetensors(readFileSync(path.join(REPO_DIR, EXAMPLE, 'model/lstm.safetensors'))));
  const cases = Array.from({ length: count }, (_, i) => {
    const T = 1 + (i % 7), B = 1 + (i % 3), I = config.inputSize;
    const row = () => Array.from({ length: I }, () => Math.round((random() * 4 - 2) * 1000) / 1000);
    const input = i % 5 === 4 ? Array.from({ length: T }, row) : Array.from({ length: B }, () => Array.from({ length: T }, row));
    const { output, h } = lstm.forward(input);
    const plain = (t: inference.Tensor) => ({ shape: [...t.shape], data: Array.from(t.data) });
    return { text: JSON.stringify({ input }), expected: { status: 200, body: { output: plain(output), h: plain(h) } } };
  });
  lstm.dispose();
  return cases;
}

/** Invalid bodies, each with the 400 answer it must get: the library's own message where the input reaches forward. */
function invalidCases(): Array<{ text: string; expected: Answer }> {
  const lstm = new inference.LSTM(config);
  const libraryError = (input: unknown) => {
    try {
      lstm.forward(input as inference.TensorLike);
    } catch (error) {
      return { error: (error as inference.LooptreeError).message, code: (error as inference.LooptreeError).code };
    }
    throw new Error(`no error for ${JSON.stringify(input)}`);
  };
  const wrongShape = [[[1, 2, 3]]]; // inputSize 3, not 5
  const ragged = [[[1, 2, 3, 4, 5], [1, 2]]];
  const strings = [[['a', 'b', 'c', 'd', 'e']]];
  const rank4 = [[[[1, 2, 3, 4, 5]]]];
  const cases = [
    ...[wrongShape, ragged, strings, rank4, [], null, 7].map((input) => ({ text: JSON.stringify({ input }), expected: { status: 400, body: libraryError(input) } })),
    { text: '{"input": [[[1, 2', expected: { status: 400, body: { code: 'ERR_JSON' } } },
    { text: '[1, 2, 3]', expected: { status: 400, body: { code: 'ERR_ARGUMENT' } } },
    { text: '{"inputs": [[[1, 2, 3, 4, 5]]]}', expected: { status: 400, body: { code: 'ERR_ARGUMENT' } } },
  ];
  lstm.dispose();
  return cases;
}

async function post(url: string, text: string): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', body: text, headers: { 'content-type': 'application/json' } });
  return { status: response.status, body: await response.json() };
}

/**
 * Checks an answer: valid ones equal the expected body — exactly when the handler runs the build the direct forwards
 * used (baseline), else within `atol` (relaxed SIMD's fused multiply-adds round differently); errors have the expected
 * status and fields.
 */
function expectAnswer(where: string, actual: Answer, expected: Answer, atol = 0): void {
  expect(actual.status, `${where}: status (${JSON.stringify(actual.body).slice(0, 200)})`).toBe(expected.status);
  if (expected.status !== 200) {
    expect(actual.body, where).toMatchObject(expected.body);
  } else if (atol === 0) {
    expect(actual.body, where).toEqual(expected.body);
  } else {
    for (const key of ['output', 'h']) {
      expect(actual.body[key].shape, `${where}: ${key} shape`).toEqual(expected.body[key].shape);
      const worst = Math.max(...expected.body[key].data.map((value: number, i: number) => Math.abs(value - actual.body[key].data[i])));
      expect(worst, `${where}: ${key}, largest difference`).toBeLessThanOrEqual(atol);
    }
  }
}

/** A valid and an invalid request of each kind, and an oversized body: the checks every handler passes. */
async function expectHandlerAnswers(where: string, url: string, atol = 0): Promise<void> {
  for (const [i, c] of [...validCases(6), ...invalidCases()].entries()) expectAnswer(`${where}, request ${i}`, await post(url, c.text), c.expected, atol);
  const get = await fetch(url);
  expect(get.status, `${where}: GET`).toBe(405);
  await get.body?.cancel();
  // Last: a handler may answer 413 before reading the body and drop the connection (workerd does), so no request
  // must follow it on a pooled keep-alive connection (that one then fails with ECONNRESET, depending on timing).
  const oversized = await post(url, JSON.stringify({ input: [[Array(600_000).fill(1)]] }));
  expect(oversized.status, `${where}: oversized body`).toBe(413);
}

// ---- servers in child processes ----

/** Starts `command` in `cwd` and resolves with the URL it prints ("listening on http://…"). */
function startServer(command: string, args: string[], cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(command, args, { cwd, env: { ...process.env, PORT: '0', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${command} did not start listening: ${output}`)), 30_000);
    const seen = (chunk: Buffer) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1].replace('localhost', '127.0.0.1') });
      }
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.on('exit', (code) => reject(new Error(`${command} exited (${code}): ${output}`)));
  });
}

function stopServer(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null) child.kill();
}

/** The resident memory of a process, from /proc (Linux), in MiB; undefined elsewhere. */
function residentMiB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

let project = '';
beforeAll(async () => {
  if (!built) return;
  await inference.init({ simd: 'baseline' }); // what the servers' init() picks here: Node 20 without the relaxed-SIMD flag
  project = installedProject({ serverless: EXAMPLE });
});
afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

const nodeMissing = unavailable([notBuilt]);
describe.skipIf(nodeMissing)(`Node HTTP handler (examples/serverless/node.mjs)${nodeMissing ? ` (skipped: ${nodeMissing})` : ''}`, () => {
  let server: { child: ChildProcess; url: string } | undefined;
  beforeAll(async () => {
    // This Node, without flags: init() picks the baseline build (Node 20), as the direct forwards here use.
    if (WebAssembly.validate(readFileSync(path.join(REPO_DIR, 'dist/looptree-relaxed.wasm')))) throw new Error('expected an engine without relaxed SIMD by default (Node 20)');
    server = await startServer(process.execPath, ['node.mjs'], path.join(project, 'serverless'));
  }, 60_000);
  afterAll(() => stopServer(server?.child));

  it('answers each kind of request: outputs as a direct forward, 400 with the typed error, 413, 405', async () => {
    await expectHandlerAnswers('Node', server!.url);
  }, 60_000);

  it('under load: 3,000 requests from 16 concurrent clients, all valid ones exact, every invalid one 400', async () => {
    const valid = validCases(40), invalid = invalidCases();
    const REQUESTS = 3000, CLIENTS = 16;
    const rssBefore = residentMiB(server!.child.pid!);
    const latencies: number[] = [];
    const failures: string[] = [];
    let next = 0;
    const started = performance.now();
    const client = async () => {
      while (next < REQUESTS) {
        const i = next++;
        // One request in ten is invalid.
        const c = i % 10 === 9 ? invalid[i % invalid.length] : valid[i % valid.length];
        const sent = performance.now();
        const answer = await post(server!.url, c.text);
        latencies.push(performance.now() - sent);
        try {
          expectAnswer(`request ${i}`, answer, c.expected);
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    const seconds = (performance.now() - started) / 1000;
    const rssAfter = residentMiB(server!.child.pid!);
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(2);
    console.log(`Node handler under load: ${REQUESTS} requests, ${CLIENTS} clients, ${(REQUESTS / seconds).toFixed(0)} requests/s, `
      + `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, server RSS ${rssBefore?.toFixed(1)} → ${rssAfter?.toFixed(1)} MiB (loaded shared machine: not a benchmark)`);
    expect(failures.slice(0, 3)).toEqual([]);
    expect(latencies.length).toBe(REQUESTS);
  }, 300_000);
});

const denoMissing = unavailable([notBuilt, !existsSync(DENO) && 'test/runtimes/node_modules/.bin/deno is not installed (npm ci --prefix test/runtimes)']);
describe.skipIf(denoMissing)(`Deno handler (examples/serverless/deno.mjs, Deno.serve)${denoMissing ? ` (skipped: ${denoMissing})` : ''}`, () => {
  let server: { child: ChildProcess; url: string } | undefined;
  afterAll(() => stopServer(server?.child));

  it('answers each kind of request: outputs as a direct forward (within 1e-6: Deno runs the relaxed build), 400 with the typed error, 413, 405', async () => {
    server = await startServer(DENO, ['run', '--allow-read', '--allow-net', '--allow-env', 'deno.mjs'], path.join(project, 'serverless'));
    await expectHandlerAnswers('Deno', server.url, 1e-6);
  }, 90_000);
});

const workerMissing = unavailable([notBuilt, !miniflare && 'miniflare is not installed (npm ci --prefix test/runtimes)']);
describe.skipIf(workerMissing)(`Cloudflare Worker (examples/serverless/cloudflare, workerd via miniflare)${workerMissing ? ` (skipped: ${workerMissing})` : ''}`, () => {
  it('bundled as wrangler does, answers each kind of request like the Node handler', async () => {
    const dir = path.join(project, 'serverless/cloudflare');
    // wrangler's bundling: esbuild with the workerd conditions; .wasm and .safetensors stay imports (wrangler.toml's rules
    // make them a CompiledWasm and a Data module), JSON is inlined.
    const bundle = await build({
      entryPoints: [path.join(dir, 'worker.mjs')], bundle: true, format: 'esm', write: false, logLevel: 'silent',
      conditions: ['workerd', 'worker', 'browser'], platform: 'neutral', external: ['*.wasm', '*.safetensors'],
    });
    const code = bundle.outputFiles[0].text;
    expect(code).toContain('looptree/looptree-baseline.wasm');
    const worker = new miniflare!.Miniflare({
      compatibilityDate: '2025-01-01',
      modules: [
        // Module names as wrangler lays them out: the worker in cloudflare/, its ../model/ import resolving beside it.
        { type: 'ESModule', path: 'cloudflare/worker.js', contents: code },
        // workerd resolves the bare specifier beside the importer (wrangler would give the file a name of its own).
        { type: 'CompiledWasm', path: 'cloudflare/looptree/looptree-baseline.wasm', contents: readFileSync(path.join(project, 'node_modules/looptree/dist/looptree-baseline.wasm')) },
        { type: 'Data', path: 'model/lstm.safetensors', contents: readFileSync(path.join(dir, '../model/lstm.safetensors')) },
      ],
    });
    try {
      const url = (await worker.ready).href;
      await expectHandlerAnswers('workerd', url);
    } finally {
      await worker.dispose();
    }
  }, 120_000);
});
