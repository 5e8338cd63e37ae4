// Soak (issue 10, item 6): 10⁶ stream steps, 10⁴ forwards of changing shapes and 10⁴ forgotten models in a child
// process with --expose-gc (test/helpers/soak.mjs); after each phase the Wasm heap in use is back to its level (the
// forgotten models freed by the FinalizationRegistry), linear memory bounded and the JS heap flat.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { simdUnderTest } from './helpers/fixtures.js';

interface Level { heapBytes: number; heapBlocks: number; memoryBytes: number; jsHeap: number }
interface Phase { phase: string; before: Level; after: Level; finite?: boolean }

describe(`soak in a child process (${process.env.LOOPTREE_SIMD} build)`, () => {
  it('memory stays flat over 10⁶ stream steps, 10⁴ changing forwards and 10⁴ forgotten models', () => {
    const script = fileURLToPath(new URL('./helpers/soak.mjs', import.meta.url));
    const child = spawnSync(process.execPath, ['--expose-gc', '--experimental-wasm-relaxed-simd', script, simdUnderTest()], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const phases = child.stdout.trim().split('\n').map((line) => JSON.parse(line) as Phase);
    console.log(phases.map(({ phase, before, after }) => `${phase}: Wasm heap ${before.heapBytes} → ${after.heapBytes} B (${before.heapBlocks} → ${after.heapBlocks} blocks), ` +
      `memory ${before.memoryBytes} → ${after.memoryBytes} B, JS heap ${before.jsHeap} → ${after.jsHeap} B`).join('\n'));
    expect(phases.map((p) => p.phase)).toEqual(['1e6 stream steps', '1e4 forwards of changing shapes', '1e4 forgotten models']);
    const [stream, forwards, forgotten] = phases;
    expect(stream.finite).toBe(true);
    // The stream preallocated: memory never grew; its block is freed by dispose().
    expect(stream.after.memoryBytes).toBe(stream.before.memoryBytes);
    expect(stream.after.heapBlocks).toBe(stream.before.heapBlocks - 1);
    // Changing shapes reuse the arena grown to the largest first.
    expect(forwards.after.heapBytes).toBe(forwards.before.heapBytes);
    expect(forwards.after.memoryBytes).toBe(forwards.before.memoryBytes);
    // Forgotten models: all freed; memory grew only while the finalizer lagged behind (bounded).
    expect(forgotten.after.heapBytes).toBe(forgotten.before.heapBytes);
    expect(forgotten.after.heapBlocks).toBe(forgotten.before.heapBlocks);
    expect(forgotten.after.memoryBytes).toBeLessThan(256 * 2 ** 20);
    for (const { phase, before, after } of phases) expect(after.jsHeap - before.jsHeap, `${phase}: JS heap growth`).toBeLessThan(8 * 2 ** 20);
  }, 600_000);
});
