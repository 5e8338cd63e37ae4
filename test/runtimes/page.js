// Script of test/runtimes/page.html: window.looptreeProbe({ caseName, init, inWorker, probe }) fetches a fixture and runs probe.js (runProbe, or runThreadsProbe when probe is 'threads') with looptree in this page, or in a module Web Worker (worker.js).

import * as looptree from '/dist/browser.js';
import { fetchFixture, runProbe, runThreadsProbe } from './probe.js';

window.looptreeProbe = async ({ caseName, init, inWorker, probe = 'run' }) => {
  const message = { init, probe, ...(await fetchFixture('/test/fixtures/torch/', caseName)) };
  if (!inWorker) return { result: await (probe === 'threads' ? runThreadsProbe : runProbe)(looptree, message) };
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
