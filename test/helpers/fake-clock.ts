// Test helper: performance.now — the relaxed core's clock import, read only by its int8 dot choice
// (assembly/quantized.ts trialCall) — replaced by a counted fake that makes one of the two timed forms the faster.
import { vi } from 'vitest';

/**
 * Replaces performance.now by a counted fake (undone by vi.restoreAllMocks). The core reads it twice per trial
 * call (start, end), the calls running the default form and the paired one in turn: the fake advances by the form's
 * cost after each start read, and by `advance(ms)` between calls.
 */
export function fakeClock(defaultCost: number, pairedCost: number): { reads: () => number; advance: (ms: number) => void } {
  let reads = 0, time = 1000;
  vi.spyOn(performance, 'now').mockImplementation(() => {
    const value = time;
    if (reads % 2 === 0) time += (reads / 2) % 2 === 0 ? defaultCost : pairedCost;
    reads++;
    return value;
  });
  return { reads: () => reads, advance(ms: number) { time += ms; } };
}
