// Test helper of test/packaging: the library as npm publishes it (`npm pack` of the built dist/) and scratch consumer
// projects that install it.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_DIR } from './runtimes.js';

export const run = promisify(execFile);

/**
 * The environment of a user's shell for the commands the tests run as a user would: this process's without vitest's
 * variables (NODE_ENV=test would make Vite build for tests), with test/packaging's and the repository's
 * node_modules/.bin on the PATH (the bundlers; esbuild is the library's own).
 */
export const userEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => key !== 'NODE_ENV' && !key.startsWith('VITEST')),
);
userEnv.PATH = [path.join(REPO_DIR, 'test/packaging/node_modules/.bin'), path.join(REPO_DIR, 'node_modules/.bin'), userEnv.PATH].join(path.delimiter);

/** `npm pack` of the repository into `destination`; returns the tarball's path. */
export async function packLibrary(destination: string): Promise<string> {
  if (!existsSync(path.join(REPO_DIR, 'dist/index.d.ts'))) throw new Error('dist/ is not built: run `npm run build` first');
  // --ignore-scripts: pack the dist/ that the tests run on (prepare would rebuild it).
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], { cwd: REPO_DIR, timeout: 60_000 });
  return path.join(destination, JSON.parse(stdout)[0].filename);
}

/**
 * A consumer project in `dir` (created): a private package.json of the given module type, then
 * `npm install <npmArgs>` in it (e.g. `['--offline', tarball]`: the tarball has no dependencies).
 */
export async function consumerProject(dir: string, npmArgs: string[], type: 'module' | 'commonjs' = 'module'): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type }));
  await run('npm', ['install', '--no-audit', '--no-fund', ...npmArgs], { cwd: dir, env: userEnv, timeout: 240_000 });
  return dir;
}
