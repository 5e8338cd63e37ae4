// Module Web Worker of test/runtimes/browser.test.ts: loads looptree inside the worker, runs probe.js on the case it is sent and posts back the result (or the error).

import * as looptree from '/dist/browser.js';
import { runProbe, runThreadsProbe } from './probe.js';

self.onmessage = async ({ data }) => {
  try {
    self.postMessage({ result: await (data.probe === 'threads' ? runThreadsProbe : runProbe)(looptree, data) });
  } catch (error) {
    self.postMessage({ error: String(error?.stack ?? error) });
  }
};
