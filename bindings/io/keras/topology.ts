// model.json → the chain of layers to run: the format check, Sequential and linear functional ("Model" /
// "Functional") topologies, the input shape, and which outputs of the last layer the model returns.

import { asObject, isObject, readDims, type Dim, type JsonObject, type LayerSpec } from './config.js';
import { KerasError, describeValue } from './errors.js';

/** The model's input without the batch axis, and the batch size if the model fixes one. */
export interface InputSpec {
  readonly shape: Dim[];
  readonly batch: number | null;
}

export interface Topology {
  readonly name: string;
  /** "Sequential", "Model" or "Functional". */
  readonly className: string;
  readonly input: InputSpec;
  /** A functional model's InputLayer (listed by summary()). */
  readonly inputLayer: LayerSpec | null;
  /** Every other layer, in the order data flows through them. */
  readonly layers: LayerSpec[];
  /** Which outputs of the last layer the model returns, in order; null: all of them (Sequential). */
  readonly outputs: number[] | null;
}

/** Parses a model.json (object or text) into its chain of layers and its weightsManifest (checked later). */
export function parseModelJson(modelJson: unknown): { topology: Topology; weightsManifest: unknown } {
  let root: unknown = modelJson;
  if (typeof modelJson === 'string') {
    try {
      root = JSON.parse(modelJson);
    } catch (error) {
      throw new KerasError(`model.json is not valid JSON: ${(error as Error).message}`);
    }
  }
  const json = asObject(root, 'model.json');
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new KerasError(`model.json: format ${describeValue(json.format)} is not supported; loadLayersModel reads "layers-model" files (tensorflowjs_converter --output_format tfjs_layers_model)`);
  }
  let model = asObject(json.modelTopology, 'model.json: modelTopology');
  // Converted Keras files nest the model under model_config (beside training_config).
  if (model.model_config !== undefined) model = asObject(model.model_config, 'model.json: modelTopology.model_config');
  const className = model.class_name;
  const topology = className === 'Sequential' ? readSequential(model.config)
    : className === 'Model' || className === 'Functional' ? readFunctional(className, asObject(model.config, `model.json: ${className} config`))
    : null;
  if (!topology) throw new KerasError(`model.json: model class ${describeValue(className)} is not supported (Sequential, Model or Functional)`);
  return { topology, weightsManifest: json.weightsManifest };
}

function layerSpec(raw: unknown, where: string, functional: boolean): LayerSpec {
  const layer = asObject(raw, where);
  const config = asObject(layer.config, `${where}.config`);
  const name = functional ? layer.name : config.name;
  if (typeof layer.class_name !== 'string') throw new KerasError(`${where}: class_name must be a string, got ${describeValue(layer.class_name)}`);
  if (typeof name !== 'string' || name === '' || name.includes('/')) {
    throw new KerasError(`${where} (${layer.class_name}): name must be a non-empty string without "/", got ${describeValue(name)}`);
  }
  return { className: layer.class_name, name, config };
}

/** The input shape and batch size of a `batch_input_shape` (TF.js, Keras 2) or `batch_shape` (Keras 3). */
function inputSpec(spec: LayerSpec): InputSpec {
  const key = spec.config.batch_input_shape !== undefined ? 'batch_input_shape' : 'batch_shape';
  const dims = readDims(spec.config[key], `layer "${spec.name}" (${spec.className}): ${key}`, true);
  if (dims.length < 2) throw new KerasError(`layer "${spec.name}" (${spec.className}): ${key} must have a batch axis and at least one more, got ${describeValue(dims)}`);
  return { batch: dims[0], shape: dims.slice(1) };
}

function checkUniqueNames(layers: readonly LayerSpec[]): void {
  const seen = new Set<string>();
  for (const { name } of layers) {
    if (seen.has(name)) throw new KerasError(`model.json: two layers are named "${name}"`);
    seen.add(name);
  }
}

function readSequential(config: unknown): Topology {
  const list = Array.isArray(config) ? config : asObject(config, 'model.json: Sequential config').layers;
  if (!Array.isArray(list) || list.length === 0) throw new KerasError(`model.json: a Sequential model needs a non-empty list of layers, got ${describeValue(list)}`);
  const name = isObject(config) && typeof config.name === 'string' ? config.name : 'sequential';
  const layers = list.map((raw, i) => layerSpec(raw, `model.json: layers[${i}]`, false));
  checkUniqueNames(layers);
  const first = layers[0];
  const input = inputSpec(first);
  if (first.className === 'InputLayer') layers.shift();
  const inner = layers.find((layer) => layer.className === 'InputLayer');
  if (inner) throw new KerasError(`model.json: InputLayer "${inner.name}" may only be the first layer of a Sequential model`);
  if (layers.length === 0) throw new KerasError('model.json: the model has no layer besides its InputLayer');
  return { name, className: 'Sequential', input, inputLayer: null, layers, outputs: null };
}

/** A tensor reference [layer name, node index, tensor index] of input_layers / output_layers / inbound nodes. */
function tensorRef(raw: unknown, where: string): { layer: string; node: number; tensor: number; kwargs: unknown } {
  if (!Array.isArray(raw) || raw.length < 3 || raw.length > 4 || typeof raw[0] !== 'string'
      || !Number.isInteger(raw[1]) || raw[1] < 0 || !Number.isInteger(raw[2]) || raw[2] < 0) {
    throw new KerasError(`${where} must be [layer name, node index, tensor index(, kwargs)], got ${describeValue(raw)}`);
  }
  return { layer: raw[0], node: raw[1], tensor: raw[2], kwargs: raw[3] };
}

function singleList(value: unknown, where: string, what: string): unknown {
  if (!Array.isArray(value) || value.length !== 1) {
    throw new KerasError(`${where}: a linear chain needs exactly one ${what}, got ${describeValue(value)}`);
  }
  return value[0];
}

/** A functional model whose layers form one chain from its single InputLayer to the layer giving every output. */
function readFunctional(className: string, config: JsonObject): Topology {
  if (!Array.isArray(config.layers)) throw new KerasError(`model.json: ${className} config.layers must be a list, got ${describeValue(config.layers)}`);
  const raws = config.layers.map((raw, i) => asObject(raw, `model.json: layers[${i}]`));
  const layers = raws.map((raw, i) => layerSpec(raw, `model.json: layers[${i}]`, true));
  checkUniqueNames(layers);
  const byName = new Map(layers.map((layer) => [layer.name, layer]));
  const input = tensorRef(singleList(config.input_layers, 'model.json: input_layers', 'model input'), 'model.json: input_layers[0]');
  const inputLayer = byName.get(input.layer);
  if (!inputLayer || inputLayer.className !== 'InputLayer') throw new KerasError(`model.json: the model input "${input.layer}" is not an InputLayer of the model`);

  // Each layer's single inbound tensor; the consumers of each layer.
  const next = new Map<string, LayerSpec[]>();
  layers.forEach((layer, i) => {
    const where = `model.json: layer "${layer.name}" (${layer.className})`;
    const nodes = raws[i].inbound_nodes;
    if (layer === inputLayer) {
      if (Array.isArray(nodes) && nodes.length > 0) throw new KerasError(`${where}: an InputLayer has no inbound nodes, got ${describeValue(nodes)}`);
      return;
    }
    const node = singleList(nodes, `${where}.inbound_nodes`, 'call of the layer (shared layers are not supported)');
    const from = tensorRef(singleList(node, `${where}.inbound_nodes[0]`, 'input tensor'), `${where}.inbound_nodes[0][0]`);
    if (from.kwargs !== undefined && !(isObject(from.kwargs) && Object.keys(from.kwargs).every((key) => key === 'training'))) {
      throw new KerasError(`${where}: call arguments ${describeValue(from.kwargs)} are not supported`);
    }
    const source = byName.get(from.layer);
    if (!source) throw new KerasError(`${where}: its input comes from an unknown layer "${from.layer}"`);
    if (from.node !== 0 || from.tensor !== 0) {
      throw new KerasError(`${where}: takes output ${from.tensor} of "${from.layer}" (node ${from.node}); a linear chain passes each layer's first output only`);
    }
    next.set(source.name, [...(next.get(source.name) ?? []), layer]);
  });

  const chain: LayerSpec[] = [];
  for (let layer = inputLayer; ;) {
    const consumers = next.get(layer.name) ?? [];
    if (consumers.length > 1) {
      throw new KerasError(`model.json: the output of "${layer.name}" feeds ${consumers.length} layers (${consumers.map((c) => `"${c.name}"`).join(', ')}); only linear chains are supported`);
    }
    if (consumers.length === 0) break;
    layer = consumers[0];
    chain.push(layer);
  }
  const unreached = layers.filter((layer) => layer !== inputLayer && !chain.includes(layer));
  if (unreached.length > 0) throw new KerasError(`model.json: layer "${unreached[0].name}" is not on the chain from the input; only linear chains are supported`);
  if (chain.length === 0) throw new KerasError('model.json: the model has no layer besides its InputLayer');

  const last = chain[chain.length - 1];
  if (!Array.isArray(config.output_layers) || config.output_layers.length === 0) {
    throw new KerasError(`model.json: output_layers must be a non-empty list, got ${describeValue(config.output_layers)}`);
  }
  const outputs = config.output_layers.map((raw, i) => {
    const ref = tensorRef(raw, `model.json: output_layers[${i}]`);
    if (ref.layer !== last.name || ref.node !== 0) {
      throw new KerasError(`model.json: output_layers[${i}] is "${ref.layer}" (node ${ref.node}); a linear chain's outputs all come from its last layer "${last.name}"`);
    }
    return ref.tensor;
  });
  const name = typeof config.name === 'string' ? config.name : 'model';
  return { name, className, input: inputSpec(inputLayer), inputLayer, layers: chain, outputs };
}
