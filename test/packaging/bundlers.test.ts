// The packed library installed and bundled as users do: `npm pack` once, then for each consumer a scratch project that
// installs the tarball — plain Node ESM and CommonJS, an esbuild bundle with the README's copy of the .wasm, `vite build`
// with no config, the Vite dev server with the README's one line, webpack 5 with its default config — and a project that
// installs `git+file://` of the repository (its prepare script builds dist/). Each runs the runtime tests' probe (a
// PyTorch fixture end to end) and must match PyTorch: Node consumers in a child process, bundles served on 127.0.0.1 and
// loaded in headless Chromium.
// Needs Chromium and playwright-core (npm ci --prefix test/runtimes) for the bundles, vite, webpack and webpack-cli
// (npm ci --prefix test/packaging), and npm's registry or cache for the git install's devDependencies; each missing
// piece skips its tests with the reason, and fails them instead under LOOPTREE_REQUIRE_RUNTIMES=1 (CI).

import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { consumerProject, packLibrary, run, userEnv } from '../helpers/packaging.js';
import {
  PROBE_CASE, REPO_DIR, chromiumBrowser, chromiumPath, expectProbeMatchesTorch, probeInBrowser, resolveTestPackage, runtimePackage,
  serveFiles, unavailable, type FileServer, type ProbeResult,
} from '../helpers/runtimes.js';

const APPS = path.join(REPO_DIR, 'test/packaging/apps');
const PROBE = path.join(REPO_DIR, 'test/runtimes/probe.js');
const FIXTURE = ['.json', '.safetensors'].map((extension) => path.join(REPO_DIR, 'test/fixtures/torch', PROBE_CASE + extension));

const executablePath = chromiumPath();
const playwright = await runtimePackage('playwright-core');
const vite = await runtimePackage<typeof import('vite')>('vite', 'test/packaging');
const browserMissing = unavailable([
  !executablePath && 'Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)',
  !playwright && 'playwright-core is not installed (npm ci --prefix test/runtimes)',
]);
const viteMissing = unavailable([!vite && 'vite is not installed (npm ci --prefix test/packaging)']);
const webpackMissing = unavailable([
  !resolveTestPackage('webpack-cli/package.json', 'test/packaging') && 'webpack-cli is not installed (npm ci --prefix test/packaging)',
]);

/** Runs a command line as a user types it in `cwd` (the bundlers on the PATH). */
const shell = (command: string, cwd: string) => run('sh', ['-c', command], { cwd, env: userEnv, timeout: 120_000 });

let scratch = '';
let tarball = '';

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'looptree-bundlers-'));
  tarball = await packLibrary(scratch);
}, 60_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** A scratch project named `name` with the packed looptree installed (offline: the tarball has no dependencies). */
const tarballProject = (name: string, type?: 'module' | 'commonjs') => consumerProject(path.join(scratch, name), ['--offline', tarball], type);

/** Copies `files` ({ destination in the project: source }) into `project`, creating folders. */
function copyInto(project: string, files: Record<string, string>): void {
  for (const [destination, source] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(project, destination)), { recursive: true });
    copyFileSync(source, path.join(project, destination));
  }
}

describe('Node consumers, in a child process', () => {
  // init()'s choice in a plain `node`: relaxed SIMD where it validates the relaxed build (Node 22), baseline otherwise.
  const simd = WebAssembly.validate(readFileSync(path.join(REPO_DIR, 'dist/looptree-relaxed.wasm'))) ? 'relaxed' : 'baseline';

  /**
   * Runs apps/<app> in `project` and checks its results (through looptree and looptree/infer) against PyTorch and the
   * files `looptree` and `looptree/infer` resolved to (`entry` and its infer sibling).
   */
  async function expectNodeApp(where: string, project: string, app: 'node.mjs' | 'node.cjs', entry: string): Promise<void> {
    copyInto(project, { [app]: path.join(APPS, app), 'probe.mjs': PROBE });
    const { stdout } = await run(process.execPath, [app, ...FIXTURE], { cwd: project, env: userEnv, timeout: 60_000 });
    const output: { entry: string; inferEntry: string; result: ProbeResult; inferResult: ProbeResult } = JSON.parse(stdout);
    expect(output.entry, `${where}: the file 'looptree' resolves to`).toMatch(new RegExp(`/node_modules/looptree/${entry}$`));
    const inferEntry = entry.replace('index', 'infer');
    expect(output.inferEntry, `${where}: the file 'looptree/infer' resolves to`).toMatch(new RegExp(`/node_modules/looptree/${inferEntry}$`));
    expectProbeMatchesTorch(where, output.result, simd);
    expectProbeMatchesTorch(`${where}, looptree/infer`, output.inferResult, simd);
  }

  it("ES module: import { init, LSTM } from 'looptree' and * from 'looptree/infer'", async () => {
    await expectNodeApp('Node ESM', await tarballProject('node-esm'), 'node.mjs', 'dist/index.js');
  }, 60_000);

  it("CommonJS: require('looptree') and require('looptree/infer')", async () => {
    await expectNodeApp('Node CJS', await tarballProject('node-cjs', 'commonjs'), 'node.cjs', 'dist/index.cjs');
  }, 60_000);

  it('npm install git+file://<the repository> (prepare builds dist/), then an ES module', async (context: TestContext) => {
    const project = path.join(scratch, 'git');
    // npm clones the repository's HEAD (a clean clone: committed files only) and runs its prepare, which needs
    // looptree's devDependencies: from npm's cache where it has them, else the registry.
    const install = ['--prefer-offline', '--fetch-timeout=30000', '--fetch-retries=1', `git+file://${REPO_DIR}`];
    try {
      await consumerProject(project, install);
    } catch (error) {
      const offline = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH)\b/.exec(String((error as { stderr?: string }).stderr));
      if (!offline) throw error;
      context.skip(unavailable([`npm's registry is unreachable (${offline[1]}) and its cache lacks looptree's devDependencies`]));
    }
    await expectNodeApp('git install', project, 'node.mjs', 'dist/index.js');
  }, 300_000);
});

interface BrowserConsumer {
  name: string;
  /** Why it cannot run here ('' when it can). */
  missing: string;
  /** Where the app (apps/browser.js) goes in the project; probe.js goes beside it, the fixture into public/fixture/. */
  entry: string;
  /** The HTML page the user writes: its path in the project and its text. */
  page: [file: string, html: string];
  /** Other files of the project: { path: text }. */
  files?: Record<string, string>;
  /** The build command, run in the project (none for a dev server). */
  build?: string;
  /** Serves the app; its page is at `url` + '/'. */
  serve(project: string): Promise<FileServer>;
}

/** An HTML page that loads `src`, as a module script unless `classic`. */
const html = (src: string, classic = false) =>
  `<!doctype html>\n<meta charset="utf-8">\n<title>looptree consumer</title>\n<script${classic ? '' : ' type="module"'} src="${src}"></script>\n`;

/** The Vite dev server of `project` (with its vite.config.js) on 127.0.0.1, a free port. */
async function viteDevServer(project: string): Promise<FileServer> {
  const server = await vite!.createServer({ root: project, logLevel: 'error', clearScreen: false, server: { host: '127.0.0.1', port: 0 } });
  await server.listen();
  return { url: server.resolvedUrls!.local[0].replace(/\/$/, ''), close: () => server.close() };
}

const BROWSER_CONSUMERS: BrowserConsumer[] = [
  {
    name: "esbuild --bundle, with the README's copy of dist/*.wasm beside the bundle", missing: '',
    entry: 'app.js', page: ['public/index.html', html('./app.js')],
    build: 'esbuild app.js --bundle --format=esm --outdir=public && cp node_modules/looptree/dist/looptree-*.wasm public/',
    serve: (project) => serveFiles([['/', path.join(project, 'public')]]),
  },
  {
    name: 'vite build, no config', missing: viteMissing,
    entry: 'src/index.js', page: ['index.html', html('/src/index.js')], build: 'vite build',
    serve: (project) => serveFiles([['/', path.join(project, 'dist')]]),
  },
  {
    name: "the Vite dev server, with the README's optimizeDeps.exclude: ['looptree']", missing: viteMissing,
    entry: 'src/index.js', page: ['index.html', html('/src/index.js')],
    files: { 'vite.config.js': "export default { optimizeDeps: { exclude: ['looptree'] } };\n" },
    serve: viteDevServer,
  },
  {
    // The default config bundles ./src/index.js into dist/main.js, a classic script; the page is the user's (public/).
    name: 'webpack 5, default config', missing: webpackMissing,
    entry: 'src/index.js', page: ['public/index.html', html('main.js', true)], build: 'webpack',
    serve: (project) => serveFiles([['/', path.join(project, 'dist')], ['/', path.join(project, 'public')]]),
  },
];

describe.skipIf(browserMissing)(`bundled apps in headless Chromium${browserMissing ? ` (skipped: ${browserMissing})` : ''}`, () => {
  const chromium = chromiumBrowser(playwright, executablePath!);

  for (const consumer of BROWSER_CONSUMERS) {
    it(`${consumer.name}: init() picks the relaxed build and matches PyTorch`, async (context: TestContext) => {
      if (consumer.missing) context.skip(consumer.missing);
      const project = await tarballProject(consumer.name.replace(/\W+/g, '-'));
      copyInto(project, {
        [consumer.entry]: path.join(APPS, 'browser.js'),
        [path.join(path.dirname(consumer.entry), 'probe.js')]: PROBE,
        ...Object.fromEntries(FIXTURE.map((file) => [path.join('public/fixture', path.basename(file)), file])),
      });
      for (const [file, text] of [consumer.page, ...Object.entries(consumer.files ?? {})]) writeFileSync(path.join(project, file), text);
      if (consumer.build) await shell(consumer.build, project);
      const server = await consumer.serve(project);
      try {
        expectProbeMatchesTorch(`Chromium, ${consumer.name}`, await probeInBrowser(chromium.browser, `${server.url}/`, {}), 'relaxed');
      } finally {
        await server.close();
      }
    }, 120_000);
  }
});
