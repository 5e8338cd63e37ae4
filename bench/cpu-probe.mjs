// Child process of bench/pin.mjs, started pinned to one CPU: prints that CPU's state as JSON — its f32x4 SIMD peak and the time of one pass over 512 KB (L2-resident) — so the bench can run on the quietest CPU.
// Usage: taskset -c <cpu> node bench/cpu-probe.mjs

import { measureSimdPeak } from './simd-peak.mjs';

// On these VMs a busy neighbour on the same physical core shows far more in cache traffic than in
// register arithmetic: 40 vs 63 µs per pass here, while the two CPUs' peaks differed by 5%.
function l2PassMicroseconds() {
  const values = new Float32Array(1 << 17);
  for (let i = 0; i < values.length; i++) values[i] = i & 7;
  const pass = () => {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < values.length; i += 4) {
      s0 += values[i];
      s1 += values[i + 1];
      s2 += values[i + 2];
      s3 += values[i + 3];
    }
    return s0 + s1 + s2 + s3;
  };
  for (let i = 0; i < 200; i++) pass();
  const times = [];
  for (let r = 0; r < 15; r++) {
    const start = performance.now();
    for (let i = 0; i < 50; i++) pass();
    times.push(((performance.now() - start) / 50) * 1000);
  }
  return times.sort((a, b) => a - b)[7];
}

console.log(JSON.stringify({ peak: measureSimdPeak({ quick: true }).baseline, l2PassUs: l2PassMicroseconds() }));
