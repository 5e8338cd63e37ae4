// Draws bench/results/chart.svg (for the README) from bench/results/node*.json: one panel per engine, median ms per workload and runner on a log scale. Pure JS, no dependencies.
// Usage: node bench/chart.mjs

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const RESULTS_DIR = path.join(import.meta.dirname, 'results');
const COLORS = {
  looptree: '#d62728',
  'onnxruntime-node': '#1f4e8c',
  'onnxruntime-web': '#5b9bd5',
  'tfjs-wasm': '#2ca02c',
  'tfjs-cpu': '#98d88a',
  'brain.js': '#9467bd',
};
const FALLBACK_COLOR = '#888888';

const PANEL_WIDTH = 470;
const LABEL_WIDTH = 150; // runner names, left of the bars
const VALUE_WIDTH = 58; // numbers, right of the bars
const BAR = 8;
const BAR_GAP = 2;
const GROUP_GAP = 22; // room for the workload title above each group

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (x, y, s, attrs = '') => `<text x="${x}" y="${y}" ${attrs}>${escape(s)}</text>`;
const formatMs = (ms) => (ms >= 100 ? String(Math.round(ms)) : ms.toPrecision(3));
const formatTick = (ms) => (ms >= 1 ? String(ms) : ms.toFixed(-Math.log10(ms)));

function loadResults() {
  return readdirSync(RESULTS_DIR)
    .filter((f) => /^node\d+\.json$/.test(f))
    .sort((a, b) => parseInt(a.slice(4), 10) - parseInt(b.slice(4), 10))
    .map((f) => JSON.parse(readFileSync(path.join(RESULTS_DIR, f), 'utf8')));
}

function panel(doc, x0, top, scale) {
  const runners = doc.runners.filter((r) => doc.workloads.some((w) => w.results?.[r.name]?.ms));
  const plotWidth = PANEL_WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const xOf = (ms) => x0 + LABEL_WIDTH + plotWidth * scale(ms);
  const parts = [text(x0, top - 12, `${doc.engine} · looptree ${doc.looptree?.simd ?? '?'} SIMD build`, 'font-weight="bold" font-size="13"')];
  let y = top;
  for (const w of doc.workloads.filter((x) => !x.pending)) {
    parts.push(text(x0, y + 12, `${w.id} ${w.title}`, 'font-weight="bold"'));
    y += GROUP_GAP - 4;
    for (const r of runners) {
      const result = w.results[r.name];
      if (result?.ms) {
        const flag = { mismatch: ' ✗', 'not compared': ' †' }[result.status] ?? '';
        parts.push(
          text(x0 + LABEL_WIDTH - 6, y + BAR - 1, r.label, 'text-anchor="end" font-size="9"'),
          `<rect x="${xOf(scale.min)}" y="${y}" width="${(xOf(result.ms) - xOf(scale.min)).toFixed(1)}" height="${BAR}" fill="${COLORS[r.name] ?? FALLBACK_COLOR}"/>`,
          text(xOf(result.ms) + 3, y + BAR - 1, `${formatMs(result.ms)}${flag}`, 'font-size="9"'),
        );
        y += BAR + BAR_GAP;
      }
    }
    y += 6;
  }
  // Decade grid lines and labels, below and across the bars.
  const grid = [];
  for (let ms = scale.min; ms <= scale.max * 1.0001; ms *= 10) {
    grid.push(`<line x1="${xOf(ms)}" y1="${top - 4}" x2="${xOf(ms)}" y2="${y}" stroke="#ddd"/>`);
    grid.push(text(xOf(ms), y + 12, formatTick(ms), 'text-anchor="middle" font-size="9" fill="#555"'));
  }
  grid.push(text(x0 + LABEL_WIDTH + plotWidth / 2, y + 26, 'ms per run (log scale; shorter is faster)', 'text-anchor="middle" font-size="10" fill="#555"'));
  return { svg: [...grid, ...parts].join('\n'), height: y + 34 };
}

// One log scale for all panels, so that engines compare at a glance.
function logScale(docs) {
  const all = docs.flatMap((d) => d.workloads.flatMap((w) => Object.values(w.results ?? {}).map((r) => r.ms).filter(Boolean)));
  const min = 10 ** Math.floor(Math.log10(Math.min(...all)));
  const max = 10 ** Math.ceil(Math.log10(Math.max(...all)));
  const scale = (ms) => Math.log10(ms / min) / Math.log10(max / min);
  return Object.assign(scale, { min, max });
}

// "median of N runs", per group of workloads when some were kept from an earlier run (workloads.mjs --only).
function runSettings(doc) {
  const groups = new Map();
  for (const w of doc.workloads.filter((x) => !x.pending)) {
    const key = `median of ${w.repetitions ?? doc.repetitions} runs${(w.quick ?? doc.quick) ? ' (--quick)' : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), w.id]);
  }
  if (groups.size <= 1) return `median of ${doc.repetitions} runs${doc.quick ? ' (--quick)' : ''}`;
  return [...groups].map(([key, ids]) => `${ids.join(', ')}: ${key}`).join('; ');
}

function chart(docs) {
  const first = docs[0];
  const pending = first.workloads.filter((w) => w.pending).map((w) => w.id);
  // Per workload, the runners that cannot express it (no bar).
  const notApplicable = first.workloads.filter((w) => !w.pending).map((w) => [w.id, first.runners.filter((r) => w.results[r.name]?.status === 'n/a').map((r) => r.label)]).filter(([, labels]) => labels.length);
  const training = first.workloads.filter((w) => w.kind === 'train').map((w) => w.id);
  const notes = [
    `${first.machine.cpu}, 1 thread; ${runSettings(first)}; ${first.date.slice(0, 10)}.`,
    ...first.runners.filter((r) => r.note).map((r) => `† ${r.label}: ${r.note}.`),
    ...(notApplicable.length ? [`Not applicable (no bar): ${notApplicable.map(([id, labels]) => `${id}: ${labels.join(', ')}`).join('; ')}.`] : []),
    ...(pending.length ? [`${pending.join(', ')}: pending.`] : []),
  ];
  const kinds = training.length ? `forward pass (${training.join(', ')}: one training step)` : 'forward pass';
  const top = 32 + notes.length * 11 + 24;
  const scale = logScale(docs);
  const panels = docs.map((doc, i) => panel(doc, 10 + i * (PANEL_WIDTH + 20), top, scale));
  const width = 10 + docs.length * (PANEL_WIDTH + 20);
  const height = Math.max(...panels.map((p) => p.height));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="11" fill="#222">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    text(10, 18, `looptree vs. JS/Wasm peers and native onnxruntime — ${kinds}, median ms`, 'font-weight="bold" font-size="14"'),
    ...notes.map((n, i) => text(10, 32 + i * 11, n, 'font-size="9" fill="#555"')),
    ...panels.map((p) => p.svg),
    '</svg>',
  ].join('\n');
}

const docs = loadResults();
if (!docs.length) throw new Error(`no node*.json in ${RESULTS_DIR}: run bench/workloads.mjs first`);
const file = path.join(RESULTS_DIR, 'chart.svg');
writeFileSync(file, `${chart(docs)}\n`);
console.error(`wrote ${path.relative(process.cwd(), file)}`);
