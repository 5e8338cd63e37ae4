// The API reference's check: `node scripts/docs.mjs --check` converts every public entry of package.json `exports`
// with TypeDoc (typedoc.config.mjs) and fails, naming them, on public exports without a doc comment, broken links and
// public types that reference unexported ones. Needs dist/ to resolve the entries (npm test builds it first).
// A fixture entry with undocumented exports (test/fixtures/docs) shows that the check catches and names them.

import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

/** Runs scripts/docs.mjs --check with `args`: its exit code and everything it printed. */
function runCheck(args: string[]): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['scripts/docs.mjs', '--check', ...args], { cwd: root, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : -1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** The names the check lists as lacking a doc comment. */
function undocumentedNames(output: string): string[] {
  return [...output.matchAll(/^ {2}(\S+) \(\w+\), defined in /gm)].map((match) => match[1]);
}

describe.concurrent('API reference (TypeDoc)', () => {
  it('every public export of every entry point has a doc comment, and the reference validates', { timeout: 240_000 }, async () => {
    const { status, output } = await runCheck([]);
    // The names that lack a doc comment are in the output: print it whole when the check fails.
    if (status !== 0) console.error(output);
    expect(undocumentedNames(output), 'public exports without a doc comment').toEqual([]);
    expect(status, 'scripts/docs.mjs --check failed (output above)').toBe(0);
    const summary = /docs: \d+ entry points \((.*)\), every public export documented/.exec(output);
    expect(summary, 'the summary line of scripts/docs.mjs').not.toBeNull();
    expect(summary![1].split(', ')).toEqual(expect.arrayContaining(['looptree', 'looptree/onnx', 'looptree/keras']));
  });

  it('fails on a fixture with undocumented exports, naming each of them and nothing documented', { timeout: 240_000 }, async () => {
    const { status, output } = await runCheck(['--options', 'test/fixtures/docs/typedoc.json']);
    expect(status).toBe(1);
    expect(undocumentedNames(output).sort()).toEqual([
      'FixtureModel.undocumentedMethod', 'FixtureModel.undocumentedProperty', 'FixtureOptions.undocumentedField', 'undocumentedFunction',
    ]);
    expect(output).toContain('docs: 4 public export(s) without a doc comment');
  });
});
