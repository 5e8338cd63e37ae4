// Runs one PyTorch fixture through looptree in whichever runtime imports this file (a page, a Web Worker, workerd, the Node and bundled consumers of test/packaging) and returns what test/runtimes/*.test.ts and test/packaging/bundlers.test.ts compare.
// Plain JavaScript: served to the browser as is, bundled into the workerd script as a module, and copied into the consumer projects.

/** The fixture `caseName` of test/fixtures/torch and its .safetensors bytes, fetched from `base` (a URL of that folder). */
export async function fetchFixture(base, caseName) {
  const fixture = await (await fetch(`${base}${caseName}.json`)).json();
  const weights = await (await fetch(`${base}${caseName}.safetensors`)).arrayBuffer();
  return { fixture, weights };
}

/**
 * `looptree`: the library's module namespace as that runtime loaded it; `init`: the options for its
 * init() (e.g. { simd: 'baseline' }, or { module } where Wasm cannot be compiled from bytes);
 * `fixture`: a test/fixtures/torch LSTM case; `weights`: the same case's .safetensors bytes.
 */
export async function runProbe(looptree, { init = {}, fixture, weights }) {
  await looptree.init(init);
  const { LSTM, parseSafetensors, tensor, backendInfo } = looptree;
  const lstm = new LSTM(fixture.config);
  lstm.loadStateDict(parseSafetensors(new Uint8Array(weights)));
  const given = (name) => tensor(fixture.inputs[name].data, fixture.inputs[name].shape);
  const { output, h, c } = lstm.forward(given('input'), { h0: given('h0'), c0: given('c0') });
  lstm.dispose();
  let disposedError = '';
  try {
    lstm.forward(given('input'));
  } catch (error) {
    disposedError = error.name;
  }
  const plain = (t) => ({ shape: [...t.shape], data: Array.from(t.data) });
  return { simd: backendInfo().simd, output: plain(output), h: plain(h), c: plain(c), disposedError };
}

/**
 * runProbe's case with threads: init with `init` (e.g. { threads: 2 }), then, when threads are in use, the same
 * forward at 1 thread and at all of them (every call split): the many-thread result, backendInfo()'s threads and
 * threadsReason, and whether both runs gave the same bits.
 */
export async function runThreadsProbe(looptree, { init = {}, fixture, weights }) {
  await looptree.init(init);
  const { LSTM, parseSafetensors, tensor, backendInfo, setNumThreads, threadsReady } = looptree;
  const { threads, threadsReason } = backendInfo();
  await threadsReady();
  const lstm = new LSTM(fixture.config);
  lstm.loadStateDict(parseSafetensors(new Uint8Array(weights)));
  const given = (name) => tensor(fixture.inputs[name].data, fixture.inputs[name].shape);
  const run = () => lstm.forward(given('input'), { h0: given('h0'), c0: given('c0') });
  setNumThreads(1);
  const one = run();
  setNumThreads(threads, { everyCall: true });
  const { output, h, c } = run();
  const bits = (t) => Array.from(new Uint32Array(Float32Array.from(t.data).buffer));
  const sameAtOneThread = [[one.output, output], [one.h, h], [one.c, c]].every(([a, b]) => bits(a).join() === bits(b).join());
  lstm.dispose();
  let disposedError = '';
  try {
    run();
  } catch (error) {
    disposedError = error.name;
  }
  const plain = (t) => ({ shape: [...t.shape], data: Array.from(t.data) });
  return { simd: backendInfo().simd, threads, threadsReason: threadsReason ?? null, sameAtOneThread, output: plain(output), h: plain(h), c: plain(c), disposedError };
}
