// Measures this engine's single-core Wasm SIMD peak (GFLOP/s) with hand-assembled modules: f32x4 mul+add chains, and relaxed_madd chains where the engine validates them.

// Independent accumulator chains per loop iteration: enough to cover the latency of a dependent
// mul→add (or madd) pair on 2–4 vector pipes, few enough to stay in 16 xmm registers.
const CHAINS = 12;
const UNROLL = 4;
const FLOPS_PER_CHAIN_STEP = 8; // 4 lanes × (multiply + add)

const OP = {
  loop: 0x03, end: 0x0b, brIf: 0x0d, localGet: 0x20, localSet: 0x21, localTee: 0x22,
  i32Const: 0x41, i32Sub: 0x6b, simd: 0xfd,
};
const SIMD = { v128Const: [0x0c], f32x4ExtractLane: [0x1f], f32x4Add: [0xe4, 0x01], f32x4Mul: [0xe6, 0x01], f32x4RelaxedMadd: [0x85, 0x02] };
const TYPE = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

const simd = (op) => [OP.simd, ...op];
const section = (id, body) => [id, body.length, ...body]; // every section here is < 128 bytes except code
const leb = (n) => (n < 128 ? [n] : [(n & 127) | 128, ...leb(n >> 7)]);
const f32x4Splat = (v) => [...simd(SIMD.v128Const), ...new Uint8Array(new Float32Array([v, v, v, v]).buffer)];

// (func (export "run") (param $iterations i32) (result f32)): every chain does acc = acc·a + b
// (converging to 2, no denormals); the sum of all chains is returned so nothing is dead code.
function peakModule(relaxed) {
  const a = 1;
  const b = 2;
  const acc = (k) => 3 + k;
  const body = [
    0x01, CHAINS + 2, TYPE.v128, // locals: a, b, acc0..acc{CHAINS-1}
    ...f32x4Splat(0.5), OP.localSet, a,
    ...f32x4Splat(1), OP.localSet, b,
  ];
  for (let k = 0; k < CHAINS; k++) body.push(...f32x4Splat(k), OP.localSet, acc(k));
  body.push(OP.loop, 0x40);
  for (let u = 0; u < UNROLL; u++) {
    for (let k = 0; k < CHAINS; k++) {
      body.push(OP.localGet, acc(k), OP.localGet, a);
      body.push(...(relaxed
        ? [OP.localGet, b, ...simd(SIMD.f32x4RelaxedMadd)]
        : [...simd(SIMD.f32x4Mul), OP.localGet, b, ...simd(SIMD.f32x4Add)]));
      body.push(OP.localSet, acc(k));
    }
  }
  body.push(OP.localGet, 0, OP.i32Const, 1, OP.i32Sub, OP.localTee, 0, OP.brIf, 0, OP.end);
  body.push(OP.localGet, acc(0));
  for (let k = 1; k < CHAINS; k++) body.push(OP.localGet, acc(k), ...simd(SIMD.f32x4Add));
  body.push(...simd(SIMD.f32x4ExtractLane), 0, OP.end);

  const code = [...leb(body.length), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, TYPE.i32, 1, TYPE.f32]),
    ...section(3, [1, 0]),
    ...section(7, [1, 3, ...new TextEncoder().encode('run'), 0x00, 0]),
    10, ...leb(code.length + 1), 1, ...code,
  ]);
}

/**
 * The peak loop of one build as a bench runner: `run()` takes about `ms` milliseconds (after enough
 * short calls for the optimizing tier to take over) and does `flops` floating-point operations, so a
 * sample's GFLOP/s is flops / its time. bench/workloads.mjs times it in every round beside the runners
 * of a workload: "of peak" then compares medians taken in the same minutes.
 */
export function peakRunner(build, { ms = 10 } = {}) {
  const { run } = new WebAssembly.Instance(new WebAssembly.Module(peakModule(build === 'relaxed'))).exports;
  for (let i = 0; i < 200; i++) run(1000);
  let iterations = 1000;
  for (;;) {
    const start = performance.now();
    run(iterations);
    if (performance.now() - start >= ms) break;
    iterations *= 2;
  }
  return { flops: iterations * UNROLL * CHAINS * FLOPS_PER_CHAIN_STEP, run: () => run(iterations) };
}

// Best GFLOP/s over several timed calls of the peak loop.
function measure(build, { calls, ms }) {
  const { flops, run } = peakRunner(build, { ms });
  let best = Infinity;
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    run();
    best = Math.min(best, performance.now() - start);
  }
  return flops / best / 1e6;
}

// Whether this engine runs relaxed SIMD (Node 20 only with --experimental-wasm-relaxed-simd).
export const hasRelaxedSimd = () => WebAssembly.validate(peakModule(true));

// { baseline: GFLOP/s, relaxed: GFLOP/s or null where the engine lacks relaxed SIMD }.
export function measureSimdPeak({ quick = false } = {}) {
  const options = quick ? { calls: 3, ms: 50 } : { calls: 7, ms: 100 };
  return {
    baseline: measure('baseline', options),
    relaxed: hasRelaxedSimd() ? measure('relaxed', options) : null,
  };
}
