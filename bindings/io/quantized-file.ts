// Quantized modules (quantizeDynamic) as safetensors files: int8 weights as I8 under their PyTorch names, their row
// scales as F32 `<name>.scale`, the rest F32; the module's class and options in the metadata, so loading needs nothing else.

import { QuantizedLinear, QuantizedTreeModule, isQuantized, quantizedModule, quantizedWeightNames, type QuantizedModule } from '../nn/quantized.js';
import { parseSafetensors, readSafetensorsMetadata, serializeSafetensors } from './safetensors.js';
import { ArgumentError, SafetensorsError } from '../errors.js';
import { describe } from '../options.js';

/** Metadata keys of a quantized module's file. */
const CLASS_KEY = 'looptree.quantized.class';
const OPTIONS_KEY = 'looptree.quantized.options';
const CLASSES = {
  QuantizedRNN: 'RNN', QuantizedLSTM: 'LSTM', QuantizedGRU: 'GRU', QuantizedLinear: 'Linear',
  QuantizedTreeRNN: 'TreeRNN', QuantizedChildSumTreeLSTM: 'ChildSumTreeLSTM', QuantizedBinaryTreeLSTM: 'BinaryTreeLSTM',
} as const;

/**
 * A quantized module (quantizeDynamic) as a safetensors file: each int8 weight as I8 (`weight_ih_l0`), its row scales
 * as F32 (`weight_ih_l0.scale`), biases and the rest as F32, and the class and constructor options in `__metadata__`.
 * Throws ArgumentError for a module that is not quantized.
 */
export function saveQuantized(module: QuantizedModule): Uint8Array {
  if (!isQuantized(module)) throw new ArgumentError(`saveQuantized: module must come from quantizeDynamic, got ${describe(module)}`);
  const className = module.constructor.name as keyof typeof CLASSES;
  const options = module instanceof QuantizedLinear ? { inFeatures: module.inFeatures, outFeatures: module.outFeatures, bias: module.bias }
    : module instanceof QuantizedTreeModule ? { inputSize: module.inputSize, hiddenSize: module.hiddenSize }
      : module.options();
  const dtypes = Object.fromEntries(quantizedWeightNames(module).map((name) => [name, 'I8' as const]));
  return serializeSafetensors(module.stateDict(), { metadata: { [CLASS_KEY]: className, [OPTIONS_KEY]: JSON.stringify(options) }, dtypes });
}

/** The quantized module saved by saveQuantized. Throws SafetensorsError for a file without its metadata, StateDictError for bad weights. */
export function loadQuantized(bytes: Uint8Array): QuantizedModule {
  const metadata = readSafetensorsMetadata(bytes);
  const className = metadata[CLASS_KEY];
  if (!Object.hasOwn(CLASSES, className ?? '')) {
    throw new SafetensorsError(`loadQuantized: the file's metadata must name the class (${CLASS_KEY}: one of ${Object.keys(CLASSES).join(', ')}), got ${describe(className)}`);
  }
  let options: unknown;
  try {
    options = JSON.parse(metadata[OPTIONS_KEY] ?? '');
  } catch {
    throw new SafetensorsError(`loadQuantized: the file's metadata must hold the module's options as JSON (${OPTIONS_KEY}), got ${describe(metadata[OPTIONS_KEY])}`);
  }
  if (typeof options !== 'object' || options === null) throw new SafetensorsError(`loadQuantized: ${OPTIONS_KEY} must be a JSON object, got ${describe(options)}`);
  return quantizedModule(CLASSES[className as keyof typeof CLASSES], options, parseSafetensors(bytes));
}
