// Pins the running bench process (all its threads) to the quietest CPU of the machine, measured just before by bench/cpu-probe.mjs on each CPU; bench/workloads.mjs calls it before every workload.
// Cold starts (bench/size.mjs) stay unpinned: a fresh process compiles Wasm and JS on background threads, and a user's process has every core.

import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

// On these shared VMs the CPUs differ, and not for long: in the same minutes one vCPU ran W6 at 15 ms and
// the other at 18–19 (a busy neighbour on its physical core shows in cache traffic: an L2 pass of 40 vs
// 63 µs, while the SIMD peaks were 5% apart), and which one is quiet changed within one engine's run.
// Every runner of a workload shares the CPU chosen for it, so the comparison stays like for like.

let cpus; // the CPUs this process may use, fixed at the first call (a user's own taskset is respected)
let pinnedCpu; // the CPU of the last pinToQuietestCpu, or undefined

/**
 * Moves this process to the CPU with the fastest L2 pass. Returns { cpu, probes } (what each CPU
 * measured), or undefined where there is nothing to choose: one CPU, not Linux, or no taskset.
 */
export function pinToQuietestCpu() {
  cpus ??= os.availableParallelism() > 1 && process.platform === 'linux' && spawnSync('taskset', ['--version']).status === 0
    ? allowedCpus() : [];
  if (cpus.length < 2) return undefined;
  const probes = cpus.map((cpu) => {
    const out = spawnSync('taskset', ['-c', String(cpu), process.execPath, path.join(import.meta.dirname, 'cpu-probe.mjs')], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`bench/cpu-probe.mjs failed on CPU ${cpu}: ${out.stderr}`);
    return { cpu, ...JSON.parse(out.stdout) };
  });
  const quietest = probes.reduce((a, b) => (b.l2PassUs < a.l2PassUs ? b : a));
  const pinned = spawnSync('taskset', ['-a', '-p', '-c', String(quietest.cpu), String(process.pid)], { encoding: 'utf8' });
  if (pinned.status !== 0) throw new Error(`taskset -a -p failed: ${pinned.stderr}`);
  pinnedCpu = quietest.cpu;
  return { cpu: quietest.cpu, probes };
}

// The CPU list of this process's affinity mask, as `taskset -p` prints it (e.g. "0,1" or "0-3").
function allowedCpus() {
  const out = spawnSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' }).stdout;
  const list = out.slice(out.lastIndexOf(':') + 1).trim();
  return list.split(',').flatMap((part) => {
    const [first, last = first] = part.split('-').map(Number);
    return Array.from({ length: last - first + 1 }, (_, i) => first + i);
  });
}

/** One line for the log: the chosen CPU and what each measured. */
export function describePinning(pinning) {
  if (!pinning) return 'not pinned';
  return `pinned to CPU ${pinning.cpu} (L2 pass ${pinning.probes.map((p) => `CPU ${p.cpu} ${p.l2PassUs.toFixed(0)} µs`).join(', ')})`;
}

/**
 * The CPUs a runner of `threads` threads gets (for taskset -c, in its own process: bench/own-process.mjs): every CPU
 * this process may use when it runs more than one thread and pinning is on, else undefined (nothing to change).
 */
export function cpusForThreads(threads) {
  return pinnedCpu !== undefined && threads > 1 ? cpus.join(',') : undefined;
}
