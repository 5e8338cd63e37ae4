// Helpers of the `looptree` command: its usage error, did-you-mean, progress on a terminal, number formatting.

import { editDistance } from '../bindings/edit-distance.js';

/** A mistake in the command line (unknown command or flag, wrong arguments): printed as one line, exit 1. */
export class UsageError extends Error {}

/** The known name closest to `name` (at most a third of its letters off), or undefined. */
export function closest(name, known) {
  let best;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.ceil(name.length / 3)) ? best : undefined;
}

/**
 * A one-line progress display on stderr, rewritten in place, when stderr is a terminal (else silent, so that
 * logs and pipes see only results). `update(text)` shows a step; `done()` clears the line.
 */
export function progressLine() {
  const tty = Boolean(process.stderr.isTTY);
  let shown = false;
  return {
    update(text) {
      if (!tty) return;
      const width = process.stderr.columns || 80;
      process.stderr.write(`\r\x1b[K${text.length >= width ? `${text.slice(0, width - 2)}…` : text}`);
      shown = true;
    },
    done() {
      if (tty && shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

/** 1234567 → "1,234,567". */
export const grouped = (n) => n.toLocaleString('en-US');

/** Bytes as "1.5 MB" / "270 kB" / "812 bytes" (decimal units, as npm and file managers show them). */
export function formatBytes(bytes) {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(2)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${bytes} bytes`;
}

/** A Markdown table (GitHub style), readable as plain text too. */
export function markdownTable(header, rows) {
  const widths = header.map((cell, i) => Math.max(String(cell).length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => `| ${cells.map((cell, i) => String(cell).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}
