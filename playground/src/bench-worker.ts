// The Benchmark panel's Web Worker: runs workloads W1–W7 of bench/spec.mjs (the same seeded weights and inputs as
// `npm run bench`) with one library — looptree (one build per worker: a realm holds one), onnxruntime-web or
// TF.js (wasm) — through bench/peers.mjs's adapters (ONNX models written by bench/onnx-writer.mjs), and reports
// each workload's first output (checked on the page) and its median time.

// @ts-expect-error: bench/ is plain JavaScript without types (the shapes used here are declared below)
import { RUNNERS } from '../../bench/peers.mjs';
// @ts-expect-error: as above
import { ALL_WORKLOADS, makeCase } from '../../bench/spec.mjs';

declare const PEERS_INSTALLED: boolean;

export type BenchRunnerName = 'looptree-baseline' | 'looptree-relaxed' | 'onnxruntime-web' | 'tfjs-wasm';
export interface BenchRequest {
  runner: BenchRunnerName;
  workloads: string[];
  reps: number;
  warmup: boolean;
  /** Shrink each workload (T ≤ 16 steps, ≤ 8 trees) for a quick check of the machinery, not a measurement. */
  shrink: boolean;
}
export type BenchMessage =
  | { type: 'loaded'; runner: BenchRunnerName; detail: string }
  | { type: 'result'; runner: BenchRunnerName; id: string; ms: number; output: Float32Array | Record<string, Float32Array> | null }
  | { type: 'skipped'; runner: BenchRunnerName; id: string; reason: string }
  | { type: 'done'; runner: BenchRunnerName }
  | { type: 'error'; runner: BenchRunnerName; message: string };

interface Runner {
  name: string;
  notApplicable?: (w: unknown) => string | undefined;
  offline?: (w: unknown, c: unknown) => unknown;
  prepare: (lib: unknown, w: unknown, c: unknown, offline: unknown) => Promise<Prepared> | Prepared;
}
interface Prepared {
  output: Float32Array | Record<string, Float32Array> | null;
  run: () => unknown;
  async?: boolean;
  activate?: () => unknown;
  dispose?: () => void;
}

const BENCH_MODULES = new URL('/bench/node_modules/', self.location.href).href;
const byName = (name: string) => (RUNNERS as Runner[]).find((runner) => runner.name === name)!;

/** Loads the library of `name` in this worker: [the library, bench/peers.mjs's runner, a description]. */
async function load(name: BenchRunnerName): Promise<[unknown, Runner, string]> {
  if (name.startsWith('looptree')) {
    const lt = await import('looptree');
    await lt.init({ simd: name === 'looptree-relaxed' ? 'relaxed' : 'baseline' });
    return [lt, byName('looptree'), `looptree ${lt.backendInfo().simd}`];
  }
  if (!PEERS_INSTALLED) throw new Error('benchmark peers are not installed (npm ci --prefix bench)');
  if (name === 'onnxruntime-web') {
    const url = `${BENCH_MODULES}onnxruntime-web/dist/ort.min.mjs`;
    const ort = await import(/* @vite-ignore */ url);
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = `${BENCH_MODULES}onnxruntime-web/dist/`;
    return [ort, byName('onnxruntime-web'), `onnxruntime-web ${ort.env.versions?.web ?? ''} (wasm, 1 thread)`];
  }
  // @ts-expect-error: esbuild resolves the peers from bench/node_modules (scripts/playground.mjs); TypeScript does not look there
  const tf = await import('@tensorflow/tfjs');
  // @ts-expect-error: as above
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  tf.enableProdMode();
  wasm.setWasmPaths(`${BENCH_MODULES}@tensorflow/tfjs-backend-wasm/dist/`);
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('the TF.js wasm backend did not initialize');
  return [tf, byName('tfjs-wasm'), `TF.js ${tf.version.tfjs} (wasm, 1 thread)`];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

onmessage = async (event: MessageEvent<BenchRequest>) => {
  const { runner: name, workloads, reps, warmup, shrink } = event.data;
  const post = (message: BenchMessage) => postMessage(message);
  try {
    const [lib, runner, detail] = await load(name);
    post({ type: 'loaded', runner: name, detail });
    for (const id of workloads) {
      const full = (ALL_WORKLOADS as Array<{ id: string; T?: number; trees?: number }>).find((workload) => workload.id === id)!;
      const w = shrink ? { ...full, T: Math.min(full.T ?? 1, 16), trees: Math.min(full.trees ?? 0, 8) } : full;
      const reason = runner.notApplicable?.(w);
      if (reason) {
        post({ type: 'skipped', runner: name, id, reason });
        continue;
      }
      const c = makeCase(w);
      const prepared = await runner.prepare(lib, w, c, runner.offline?.(w, c));
      await prepared.activate?.();
      const times: number[] = [];
      if (warmup) await prepared.run(); // prepare() ran it once already; one more before timing
      for (let r = 0; r < reps; r++) {
        const start = performance.now();
        await prepared.run();
        times.push(performance.now() - start);
      }
      post({ type: 'result', runner: name, id, ms: median(times), output: prepared.output });
      prepared.dispose?.();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    post({ type: 'done', runner: name });
  } catch (error) {
    post({ type: 'error', runner: name, message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  }
};
