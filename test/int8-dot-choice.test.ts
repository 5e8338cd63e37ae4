// The relaxed build's per-process choice of its int8 dot (assembly/quantized.ts: trialCall, abi.ts Int8Dot) seen from
// the library: a quantized LSTM (W1's shape, 64→128, T = 100: its input projection, 100×512×64, is a large call) gives
// the same bits before the choice (the default form), during the trial (the forms in turn) and after it, whichever
// form wins; and the choice never happens on the cold path. Each case loads a fresh copy of the library (its own Wasm
// core, so its own choice) and replaces performance.now, the core's clock, by a counted fake that makes the form
// named by the case the faster one (the kernel tests check that the core then runs that form: int8DotForm).

import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeClock } from './helpers/fake-clock.js';
import { simdUnderTest } from './helpers/fixtures.js';
import { seededRandom, uniformArray } from './helpers/random.js';

type Library = typeof import('../dist/index.js');

/** A fresh copy of the library (a module of its own, so a core of its own), initialized in the build under test. */
async function freshLibrary(copy: string): Promise<Library> {
  const url = new URL(`../dist/index.js?choice=${copy}`, import.meta.url).href;
  const library = (await import(/* @vite-ignore */ url)) as Library;
  await library.init({ simd: simdUnderTest() });
  return library;
}

const I = 64, H = 128;
const random = seededRandom(16);
const small = uniformArray(random, 1 * I), large = uniformArray(random, 100 * I);

afterEach(() => {
  vi.restoreAllMocks();
});

describe(`the int8 dot's per-process choice, through a quantized LSTM (${simdUnderTest()} build)`, () => {
  it('the same bits before, during and after the choice, whichever form wins; no clock read on small forwards', async () => {
    // A trial only where both relaxed dots are trusted (V8 ≥ 12; Node 20's runs its one exact form, chosen at once).
    const trial = simdUnderTest() === 'relaxed' && Number(process.versions.v8.split('.')[0]) >= 12;
    const results: Record<string, Float32Array[]> = {};
    for (const winner of ['paired', 'default']) {
      const lt = await freshLibrary(winner);
      lt.manualSeed(5);
      const model = lt.quantizeDynamic(new lt.LSTM({ inputSize: I, hiddenSize: H }), { dtype: 'int8' });
      const run = (x: Float32Array) => {
        const { output, h, c } = model.forward({ data: x, shape: [x.length / I, 1, I] });
        return [output.data.slice(), h.data.slice(), c!.data.slice()] as Float32Array[];
      };
      const clock = fakeClock(winner === 'paired' ? 10 : 1, winner === 'paired' ? 1 : 10);
      const coldSmall = run(small); // the first forward, batch 1, one step: every call small
      expect(clock.reads(), `${winner}: clock reads of the first (small) forward`).toBe(0);
      const firstLarge = run(large); // its input projection: the trial's first call (the default form; not counted)
      expect(clock.reads(), `${winner}: clock reads of the first large forward`).toBe(trial ? 2 : 0);
      run(large); // the paired form's first trial call: counted from 200 ms after it
      clock.advance(200);
      const during = [run(large), run(large)]; // counted trial calls: the default form, then the paired one
      for (let forward = 0; forward < 14; forward++) run(large); // 8 of each: chosen
      expect(clock.reads(), `${winner}: clock reads up to the choice`).toBe(trial ? 2 * 18 : 0);
      clock.advance(1000);
      const afterLarge = run(large), afterSmall = run(small); // the chosen form only
      expect(clock.reads(), `${winner}: no clock read after the choice`).toBe(trial ? 2 * 18 : 0);
      for (const [label, got] of [['first large forward', firstLarge], ['trial forward (default form)', during[0]],
        ['trial forward (paired form)', during[1]], ['large forward after the choice', afterLarge]] as const) {
        got.forEach((values, i) => expect(Array.from(values), `${winner}: ${label}, ${['output', 'h', 'c'][i]}`).toEqual(Array.from(firstLarge[i])));
      }
      afterSmall.forEach((values, i) => expect(Array.from(values), `${winner}: small forward after the choice`).toEqual(Array.from(coldSmall[i])));
      results[winner] = [...firstLarge, ...coldSmall];
      model.dispose();
      vi.restoreAllMocks();
    }
    // The two copies (their own cores, opposite choices): the same weights, the same bits.
    results.paired.forEach((values, i) => expect(Array.from(values), `paired vs default copy, array ${i}`).toEqual(Array.from(results.default[i])));
  });
});
