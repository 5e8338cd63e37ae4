// Script of test/runtimes/page.html: window.looptreeProbe({ caseName, init, inWorker }) fetches a fixture and runs probe.js with looptree in this page, or in a module Web Worker (worker.js).

import * as looptree from '/dist/browser.js';
import { fetchFixture, runProbe } from './probe.js';

window.looptreeProbe = async ({ caseName, init, inWorker }) => {
  const message = { init, ...(await fetchFixture('/test/fixtures/torch/', caseName)) };
  if (!inWorker) return { result: await runProbe(looptree, message) };
  const worker = new Worker('/test/runtimes/worker.js', { type: 'module' });
  try {
    return await new Promise((resolve) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => resolve({ error: `worker error: ${event.message}` });
      worker.postMessage(message);
    });
  } finally {
    worker.terminate();
  }
};
