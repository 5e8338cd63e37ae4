// Script of test/runtimes/fit-async.test.ts, run in a Chromium page: trains the same seeded model with fit() and with
// fitAsync() while a 10 ms interval timer records when it fires.

const TIMER_MS = 10;

/** A seeded classifier and its data: 192 sequences of 16 ids; the class says whether id 1 comes before id 2. */
function setup(looptree) {
  const { Embedding, LSTM, LastStep, Linear, Sequential, manualSeed } = looptree;
  manualSeed(1);
  const model = new Sequential([
    new Embedding({ numEmbeddings: 8, embeddingDim: 16 }), new LSTM({ inputSize: 16, hiddenSize: 48, batchFirst: true }), new LastStep(),
    new Linear({ inFeatures: 48, outFeatures: 2 }),
  ]);
  model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 0.01 } });
  const x = Array.from({ length: 192 }, (_, n) => Array.from({ length: 16 }, (_, t) => (n * 5 + t * 3 + (n >> 3)) % 8));
  const y = x.map((row) => (row.indexOf(1) < row.indexOf(2) ? 1 : 0));
  return { model, x, y };
}

const OPTIONS = { epochs: 4, batchSize: 8, verbose: false };

/** How fit() and fitAsync() shared the page with a timer: its ticks during each, and the longest wait between ticks. */
export async function trainWhileTicking(looptree) {
  await looptree.init();
  const ticks = [];
  const timer = setInterval(() => ticks.push(performance.now()), TIMER_MS);
  try {
    const sync = setup(looptree);
    let start = performance.now();
    const syncHistory = sync.model.fit(sync.x, sync.y, OPTIONS);
    const syncMs = performance.now() - start;
    const syncTicks = ticks.filter((at) => at > start).length;

    const async = setup(looptree);
    start = performance.now();
    ticks.length = 0;
    const asyncHistory = await async.model.fitAsync(async.x, async.y, OPTIONS);
    const end = performance.now();
    const stamps = [start, ...ticks.filter((at) => at < end), end];
    const longestWaitMs = Math.max(...stamps.slice(1).map((at, i) => at - stamps[i]));
    const weights = (model) => JSON.stringify(Object.values(model.stateDict()).map((t) => Array.from(t.data)));
    return {
      syncMs, syncTicks, asyncMs: end - start, asyncTicks: stamps.length - 2, longestWaitMs,
      sameHistory: JSON.stringify(syncHistory) === JSON.stringify(asyncHistory), sameWeights: weights(sync.model) === weights(async.model),
    };
  } finally {
    clearInterval(timer);
  }
}
