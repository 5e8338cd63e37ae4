// Timing of benchmark runners (bench/workloads.mjs and the `looptree bench` CLI, which bundles this file): warm-up
// until runs stop getting faster, then rounds in which every runner takes one sample in turn; results are medians.

// { repetitions, warmupMs, sampleMs } of a full or a --quick run.
// Warm-up goes on past warmupMs while runs keep getting faster: engines tier up big Wasm modules
// (onnxruntime-web's 14 MB) in the background, for seconds on a busy machine. Runs shorter than sampleMs are
// repeated inside a sample up to about this long (after an untimed lead-in run, see sample()).
export function timingSettings({ quick }) {
  return { repetitions: quick ? 3 : 11, warmupMs: quick ? 300 : 1000, sampleMs: quick ? 5 : 100 };
}
const WARMUP_MAX_MS = 10_000;
const WARMUP_CHUNK_MS = 50;
const WARMUP_PATIENCE = 6;

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// Mean ms per run over `runs` back-to-back runs. Each sample starts on a collected heap (run.mjs passes
// --expose-gc), so that no runner pays for collecting the garbage the one before it left, and, when it
// holds several runs, with one untimed run: the first run after another runner's turn meets the caches
// and TLBs that runner left (W2 ~8% slower over a 100 ms sample than back to back), which says
// something about the interleaving, not about the library. Runs of ≥ sampleMs need no lead-in.
async function sample(prepared, runs) {
  await prepared.activate?.();
  globalThis.gc?.();
  if (runs > 1) await prepared.run();
  const start = performance.now();
  if (prepared.async) for (let i = 0; i < runs; i++) await prepared.run();
  else for (let i = 0; i < runs; i++) prepared.run();
  return (performance.now() - start) / runs;
}

// Runs until runs stop getting faster: at least warmupMs, then until WARMUP_PATIENCE chunks in a
// row bring no new best, at most WARMUP_MAX_MS (a single run longer than warmupMs is warm-up
// enough). Returns the best ms per run.
async function warmUp(prepared, { warmupMs }) {
  const start = performance.now();
  let best = await sample(prepared, 1);
  if (best >= warmupMs) return best;
  for (let sinceBest = 0; ; sinceBest++) {
    const current = await sample(prepared, Math.max(1, Math.round(WARMUP_CHUNK_MS / best)));
    if (current < 0.95 * best) sinceBest = 0;
    best = Math.min(best, current);
    const elapsed = performance.now() - start;
    if ((elapsed >= warmupMs && sinceBest >= WARMUP_PATIENCE) || elapsed >= WARMUP_MAX_MS) return best;
  }
}

// Warm-up, then settings.repetitions rounds in which every entry ({ prepared: { run, async?, activate? } }) takes
// one sample, starting each round one entry further on, so that drift and order effects fall on all alike.
// Leaves each entry's ms per run in entry.samples.
export async function time(entries, settings) {
  for (const e of entries) {
    e.runsPerSample = Math.max(1, Math.round(settings.sampleMs / (await warmUp(e.prepared, settings))));
    e.samples = [];
  }
  for (let round = 0; round < settings.repetitions; round++) {
    for (let k = 0; k < entries.length; k++) {
      const e = entries[(round + k) % entries.length];
      e.samples.push(await sample(e.prepared, e.runsPerSample));
    }
  }
}
