// The Gradients panel's Web Worker: runs the adding-problem experiment (gradients.ts) off the page's thread.

import * as looptree from 'looptree';
import { DEFAULT_GRADIENT_SETTINGS, runGradientExperiment, type GradientRun, type GradientSettings } from './gradients.js';

export type GradientMessage =
  | { type: 'run'; run: GradientRun }
  | { type: 'progress'; done: number; total: number }
  | { type: 'done' }
  | { type: 'error'; message: string };

onmessage = async (event: MessageEvent<Partial<GradientSettings>>) => {
  try {
    await looptree.init();
    const settings = { ...DEFAULT_GRADIENT_SETTINGS, ...event.data };
    runGradientExperiment(looptree, settings, (run) => postMessage({ type: 'run', run } satisfies GradientMessage), (done, total) => {
      if (done % 25 === 0) postMessage({ type: 'progress', done, total } satisfies GradientMessage);
    });
    postMessage({ type: 'done' } satisfies GradientMessage);
  } catch (error) {
    postMessage({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) } satisfies GradientMessage);
  }
};
