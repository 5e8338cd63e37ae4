// Training progress for Sequential.fit: a progress bar redrawn in place on a TTY, one plain line per epoch
// otherwise (logs, CI, browsers).

/** Metrics of one epoch, as in History. */
export interface EpochLogs {
  /** Training loss of the epoch (the mean over its samples). */
  loss: number;
  /** Training accuracy, for the classification losses (crossEntropy, nllLoss, bceWithLogits). */
  accuracy?: number;
  /** Validation loss, with validation data. */
  valLoss?: number;
  /** Validation accuracy, with validation data and a classification loss. */
  valAccuracy?: number;
}

const BAR_WIDTH = 24;
const REDRAW_INTERVAL_MS = 100;

interface TerminalStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

/** Node's stdout when it is a terminal, else undefined (pipes, files, browsers). */
function terminal(): TerminalStream | undefined {
  const stdout = (globalThis as { process?: { stdout?: TerminalStream } }).process?.stdout;
  return stdout?.isTTY === true ? stdout : undefined;
}

function formatMetrics(logs: Partial<EpochLogs>): string {
  const names: Array<[keyof EpochLogs, string]> = [['loss', 'loss'], ['accuracy', 'accuracy'], ['valLoss', 'val loss'], ['valAccuracy', 'val accuracy']];
  return names.filter(([key]) => logs[key] !== undefined).map(([key, label]) => `${label} ${logs[key]!.toFixed(4)}`).join(' - ');
}

export class ProgressReporter {
  private readonly stream = terminal();
  private epochStart = 0;
  private lastDraw = 0;

  constructor(private readonly epochs: number, private readonly batchesPerEpoch: number, private readonly enabled: boolean) {}

  startEpoch(): void {
    this.epochStart = Date.now();
    this.lastDraw = 0;
  }

  /** After each optimizer step: redraws the bar (TTY only, at most every 100 ms). */
  batchEnd(epoch: number, batchesDone: number, running: Partial<EpochLogs>): void {
    if (!this.enabled || !this.stream) return;
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_INTERVAL_MS && batchesDone < this.batchesPerEpoch) return;
    this.lastDraw = now;
    const filled = Math.round((BAR_WIDTH * batchesDone) / this.batchesPerEpoch);
    const bar = '='.repeat(filled) + '.'.repeat(BAR_WIDTH - filled);
    this.stream.write(`\r${this.prefix(epoch)} [${bar}] ${batchesDone}/${this.batchesPerEpoch} - ${formatMetrics(running)}\x1b[K`);
  }

  /** The epoch's closing line: replaces the bar on a TTY, a plain line otherwise. */
  epochEnd(epoch: number, logs: EpochLogs): void {
    if (!this.enabled) return;
    const seconds = ((Date.now() - this.epochStart) / 1000).toFixed(1);
    const line = `${this.prefix(epoch)} - ${this.batchesPerEpoch} steps - ${seconds}s - ${formatMetrics(logs)}`;
    if (this.stream) this.stream.write(`\r${line}\x1b[K\n`);
    else console.log(line);
  }

  /** A closing note (early stopping, restored weights). */
  note(text: string): void {
    if (this.enabled) console.log(text);
  }

  private prefix(epoch: number): string {
    return `Epoch ${epoch + 1}/${this.epochs}`;
  }
}
