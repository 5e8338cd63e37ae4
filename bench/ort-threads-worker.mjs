// A worker thread that runs onnxruntime-web with its own thread count (bench/peers.mjs: onnxruntime-web 2 threads):
// a module registry of its own, since ort.env.wasm.numThreads is read once per process-wide instance and the main
// thread's copy runs 1 thread. Messages: { model, x, dims } → { output }; 'run' → { done }; 'release' → { done }.

import { parentPort, workerData } from 'node:worker_threads';

const ort = await import('onnxruntime-web');
ort.env.wasm.numThreads = workerData.threads;
let session;
let feeds;
parentPort.on('message', async (message) => {
  try {
    if (message === 'run') {
      await session.run(feeds);
      parentPort.postMessage({ done: true });
    } else if (message === 'release') {
      await session?.release();
      parentPort.postMessage({ done: true });
    } else {
      session = await ort.InferenceSession.create(message.model, { logSeverityLevel: 3, executionProviders: ['wasm'] });
      feeds = { X: new ort.Tensor('float32', message.x, message.dims) };
      parentPort.postMessage({ output: (await session.run(feeds)).Y.data });
    }
  } catch (error) {
    parentPort.postMessage({ error: String(error?.stack ?? error) });
  }
});
parentPort.postMessage({ ready: true });
