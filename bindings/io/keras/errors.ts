// KerasError: what loadLayersModel throws for a model.json or weights it cannot run, naming the layer, option and value.

import { LooptreeError } from '../../index.js';

/** A TF.js layers model (model.json + weights) that is malformed or uses a layer, option or topology looptree does not run (code `'ERR_KERAS'`). */
export class KerasError extends LooptreeError {
  constructor(message: string) {
    super('ERR_KERAS', message);
  }
}

/** A JSON value for messages, cut to a readable length. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
