// Out of memory for real (issue 10, F2 and F4): a child process fills Wasm linear memory to its 4 GiB limit
// (test/helpers/memory-exhaustion.mjs) — failed and half-built constructions followed by gc(), streams and
// models until nothing fits, a forward and a Sequential.load in full memory — and every refusal must be an
// OutOfMemoryError (was: RuntimeError: unreachable, an InitError, a crash in the finalizer), the sentinel model
// bitwise unchanged after each, and everything freed reusable without memory growing.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { simdUnderTest } from './helpers/fixtures.js';

interface Step {
  step: string; label?: string; error?: string | null; code?: string | null; message?: string;
  heapBytes: number; heapBlocks: number; memoryBytes: number; intact?: boolean;
  streams?: number; models?: number; lastWorks?: boolean; after?: { heapBytes: number; memoryBytes: number };
}

describe(`memory exhaustion in a child process (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('every allocation that cannot be satisfied is an OutOfMemoryError; other models intact; freed memory reused', () => {
    const script = fileURLToPath(new URL('./helpers/memory-exhaustion.mjs', import.meta.url));
    const child = spawnSync(process.execPath, ['--expose-gc', '--experimental-wasm-relaxed-simd', script, simdUnderTest()], {
      encoding: 'utf8', maxBuffer: 1 << 24,
    });
    expect(child.stderr.replace(/.*ExperimentalWarning.*\n?|.*node --trace-warnings.*\n?/g, '')).toBe('');
    expect(child.status).toBe(0);
    const steps = child.stdout.trim().split('\n').map((line) => JSON.parse(line) as Step);
    console.log(steps.map((s) => `${s.step}${s.label ? ` ${s.label}` : ''}: ${s.error ?? 'ok'}; heap ${s.heapBytes} B in ${s.heapBlocks} blocks, memory ${s.memoryBytes} B`).join('\n'));
    const [start, ...rest] = steps;
    expect(start.step).toBe('start');
    for (const step of rest.filter((s) => s.step !== 'end')) {
      expect(step.intact, `${step.step} ${step.label ?? ''}: sentinel intact`).toBe(true);
    }
    const constructions = rest.filter((s) => s.step === 'failed construction');
    expect(constructions.map((s) => s.label)).toEqual(['LSTM(4, 12000)', 'half-built GRU(1, 9000, resetAfter: false)', 'Linear(5, 1e20)']);
    for (const step of constructions) {
      expect(step.code, step.label).toBe('ERR_OUT_OF_MEMORY');
      expect(step.heapBytes, `${step.label}: freed after gc (a half-built module by its finalizer)`).toBe(start.heapBytes);
    }
    const byName = Object.fromEntries(rest.map((s) => [s.step, s]));
    expect(byName['streams until full'].code).toBe('ERR_OUT_OF_MEMORY');
    expect(byName['streams until full'].streams).toBeGreaterThanOrEqual(3);
    const full = byName['models until full'];
    expect(full.code).toBe('ERR_OUT_OF_MEMORY');
    expect(full.message).toMatch(/could not allocate \d+ bytes/);
    expect(full.models).toBeGreaterThan(0);
    expect(full.lastWorks).toBe(true);
    expect(full.memoryBytes).toBeGreaterThan(2 ** 32 - 2 ** 24); // memory really was full
    expect(byName['forward in full memory'].code).toBe('ERR_OUT_OF_MEMORY');
    expect(byName['Sequential.load in full memory'].code).toBe('ERR_OUT_OF_MEMORY');
    const freed = byName['after freeing'];
    expect(freed.error).toBeNull(); // a 0.9 GB stream and 2,000 models fit again
    expect(freed.heapBytes).toBeLessThan(start.heapBytes + (1 << 20)); // only the per-call arena grew
    expect(freed.after!.memoryBytes).toBe(freed.memoryBytes); // reused: memory did not grow
    expect(freed.after!.heapBytes).toBe(freed.heapBytes);
  }, 600_000);
});
