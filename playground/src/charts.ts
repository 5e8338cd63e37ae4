// Plain SVG charts for the playground (no chart library): line charts with a linear or log y axis, and bar charts.

export interface Series {
  name: string;
  color: string;
  /** [x, y] points; non-finite or (on a log axis) non-positive y values are skipped. */
  points: Array<[number, number]>;
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  width?: number;
  height?: number;
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A short label for a tick value. */
function tickLabel(value: number, log: boolean): string {
  if (log) return `1e${Math.round(value)}`;
  const abs = Math.abs(value);
  return abs >= 1000 ? value.toFixed(0) : abs >= 10 ? value.toFixed(0) : abs >= 1 ? value.toFixed(1) : value.toPrecision(2);
}

/** About `count` round tick values over [low, high]. */
function ticks(low: number, high: number, count: number, integers: boolean): number[] {
  if (!(high > low)) return [low];
  const raw = (high - low) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(integers ? 1 : 0, [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw);
  const out: number[] = [];
  for (let v = Math.ceil(low / step) * step; v <= high + 1e-9; v += step) out.push(v);
  return out;
}

/** An SVG line chart of `series` (a legend on top). */
export function lineChart(series: Series[], options: LineChartOptions): string {
  const width = options.width ?? 520, height = options.height ?? 280;
  const left = 58, right = 12, bottom = 40;
  // Legend entries flow left to right and wrap; the plot starts below them.
  const legend: Array<{ x: number; y: number }> = [];
  let legendX = left, legendY = 28;
  for (const s of series) {
    const entryWidth = 28 + s.name.length * 6.2;
    if (legendX + entryWidth > width - right && legendX > left) { legendX = left; legendY += 16; }
    legend.push({ x: legendX, y: legendY });
    legendX += entryWidth;
  }
  const top = legendY + 14;
  const transform = (y: number) => (options.logY ? Math.log10(y) : y);
  const usable = series.map((s) => ({ ...s, points: s.points.filter(([, y]) => Number.isFinite(y) && (!options.logY || y > 0)) }));
  const all = usable.flatMap((s) => s.points);
  let [x0, x1] = all.length ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = all.length ? [Math.min(...all.map((p) => transform(p[1]))), Math.max(...all.map((p) => transform(p[1])))] : [0, 1];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  if (options.logY) { y0 = Math.floor(y0); y1 = Math.ceil(y1); }
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (width - left - right);
  const py = (y: number) => top + (1 - (transform(y) - y0) / (y1 - y0)) * (height - top - bottom);
  const pyRaw = (v: number) => top + (1 - (v - y0) / (y1 - y0)) * (height - top - bottom);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" class="chart">`);
  parts.push(`<text x="${left}" y="14" class="chart-title">${escape(options.title)}</text>`);
  const yTicks = options.logY ? ticks(y0, y1, 6, true) : ticks(y0, y1, 5, false);
  for (const v of yTicks) {
    const y = pyRaw(v);
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" class="grid"/><text x="${left - 6}" y="${y + 4}" text-anchor="end" class="tick">${tickLabel(v, !!options.logY)}</text>`);
  }
  for (const v of ticks(x0, x1, 6, true)) {
    parts.push(`<text x="${px(v)}" y="${height - bottom + 16}" text-anchor="middle" class="tick">${tickLabel(v, false)}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${height - bottom}" class="axis"/><line x1="${left}" x2="${width - right}" y1="${height - bottom}" y2="${height - bottom}" class="axis"/>`);
  parts.push(`<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle" class="axis-label">${escape(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${(top + height - bottom) / 2}) rotate(-90)" text-anchor="middle" class="axis-label">${escape(options.yLabel)}</text>`);
  usable.forEach((s, i) => {
    const { x: lx, y: ly } = legend[i];
    if (s.points.length) {
      const d = s.points.map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="5 3"' : ''} data-series="${escape(s.name)}"/>`);
    }
    parts.push(`<line x1="${lx}" x2="${lx + 16}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/><text x="${lx + 20}" y="${ly + 4}" class="legend">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface Bar {
  label: string;
  value: number;
  color: string;
  note?: string;
}

/** An SVG horizontal bar chart of ratios on a log axis, one row per bar, each bar drawn from 1 (the reference line) to its value. */
export function ratioChart(bars: Bar[], options: { title: string; width?: number }): string {
  const width = options.width ?? 640, row = 20, top = 44, left = 210, right = 60;
  const height = top + bars.length * row + 10;
  const values = bars.map((b) => b.value).filter((v) => v > 0 && Number.isFinite(v));
  const low = Math.floor(Math.log10(Math.min(0.5, ...values))), high = Math.ceil(Math.log10(Math.max(2, ...values)));
  const px = (v: number) => left + ((Math.log10(v) - low) / (high - low)) * (width - left - right);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" class="chart">`,
    `<text x="4" y="16" class="chart-title">${escape(options.title)}</text>`];
  for (let e = low; e <= high; e++) {
    const x = px(10 ** e);
    parts.push(`<line x1="${x}" x2="${x}" y1="${top - 4}" y2="${height - 6}" class="grid"/><text x="${x}" y="${top - 8}" text-anchor="middle" class="tick">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}×</text>`);
  }
  bars.forEach((bar, i) => {
    const y = top + i * row;
    const x0 = px(1), x1 = px(Math.max(bar.value, 10 ** low));
    parts.push(`<text x="${left - 6}" y="${y + 13}" text-anchor="end" class="tick">${escape(bar.label)}</text>`);
    parts.push(`<rect class="ratio-bar" data-label="${escape(bar.label)}" x="${Math.min(x0, x1).toFixed(1)}" y="${y + 3}" width="${Math.max(1, Math.abs(x1 - x0)).toFixed(1)}" height="${row - 6}" fill="${bar.color}"/>`);
    parts.push(`<text x="${Math.max(x0, x1) + 4}" y="${y + 13}" class="tick">${bar.value >= 10 ? bar.value.toFixed(0) : bar.value.toFixed(2)}×</text>`);
  });
  parts.push(`<line x1="${px(1)}" x2="${px(1)}" y1="${top - 4}" y2="${height - 6}" stroke="#333"/>`);
  parts.push('</svg>');
  return parts.join('');
}
