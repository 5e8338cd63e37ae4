// Bookkeeping of Sequential.fit: count-weighted loss and accuracy totals, and early stopping.

import type { Tensor } from '../tensor.js';
import type { EpochLogs } from './progress.js';

/** One loss evaluation: the loss, its gradient, how many targets it averaged over and how many were right. */
export interface LossEvaluation {
  loss: number;
  grad: Tensor;
  counted: number;
  correct?: number;
}

/** Running sums giving count-weighted means, so an epoch's loss equals the loss over all its targets. */
export class MetricTotals {
  private lossSum = 0;
  private counted = 0;
  private correct = 0;

  constructor(private readonly withAccuracy: boolean) {}

  add(result: LossEvaluation): void {
    if (result.counted === 0) return;
    this.lossSum += result.loss * result.counted;
    this.counted += result.counted;
    this.correct += result.correct ?? 0;
  }

  logs(): { loss: number; accuracy?: number } {
    const loss = this.lossSum / this.counted;
    return this.withAccuracy ? { loss, accuracy: this.correct / this.counted } : { loss };
  }
}

export class EarlyStopping {
  private best: number;
  private wait = 0;
  bestEpoch = -1;
  bestWeights: Record<string, Tensor> | undefined;

  constructor(readonly monitor: keyof EpochLogs, private readonly patience: number, private readonly minDelta: number,
              readonly restoreBest: boolean) {
    this.best = this.maximize ? -Infinity : Infinity;
  }

  private get maximize(): boolean {
    return this.monitor === 'accuracy' || this.monitor === 'valAccuracy';
  }

  /** Records an epoch; true when training should stop. */
  update(epoch: number, logs: EpochLogs, weights: () => Record<string, Tensor>): boolean {
    const value = logs[this.monitor]!;
    const improved = this.maximize ? value > this.best + this.minDelta : value < this.best - this.minDelta;
    if (improved) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.restoreBest) this.bestWeights = weights();
      return false;
    }
    this.wait++;
    return this.wait >= this.patience;
  }
}
