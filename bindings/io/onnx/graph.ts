// The executor: checks a decoded model (opset, domains, operators, node order, names), evaluates once at load time
// every node that depends only on initializers and constants, builds the recurrent nodes' modules, and runs the
// remaining nodes in the graph's order on each call.

import { OnnxError } from './errors.js';
import type { OnnxModelProto, OnnxNode } from './model.js';
import { NodeContext, type Inputs, type NodeRunner } from './node.js';
import { OPERATORS } from './ops/index.js';
import { RecurrentNode } from './recurrent.js';
import { feedToValue, toOutput, type DeclaredType, type IntegerTensor } from './feeds.js';
import { dtypeOf, type Value } from './tensors.js';
import type { RecurrentModule, Tensor } from '../../index.js';

/** The ai.onnx opsets this importer implements (RNN, LSTM and GRU as defined from opset 7 through 22). */
export const MIN_OPSET = 7;
/** The newest ai.onnx opset this importer implements; a model importing a newer one throws OnnxError. */
export const MAX_OPSET = 22;
const RECURRENT = new Set(['RNN', 'LSTM', 'GRU']);
/** Inputs of a recurrent node that are weights (W, R, B, P): constant in exported models. */
const WEIGHT_INPUTS = [1, 2, 3, 7];

interface Step {
  node: OnnxNode;
  run: NodeRunner;
}

/** Runs `action` for a node; an OnnxError that names no node is given this one. */
function atNode<T>(node: OnnxNode, action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof OnnxError && error.node === undefined) throw new OnnxError(error.message, { node: node.name, op: node.opType });
    throw error;
  }
}

export class Graph {
  readonly opset: number;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  private readonly recurrent: RecurrentNode[] = [];
  private readonly constants = new Map<string, Value>();
  private readonly declared = new Map<string, DeclaredType>();
  /** Initializers that are also graph inputs: a feed may replace them. */
  private readonly overridable = new Map<string, Value>();
  private readonly steps: Step[] = [];

  constructor(model: OnnxModelProto) {
    const opset = model.opsets.get('');
    if (opset === undefined) throw new OnnxError('the model imports no ai.onnx opset');
    if (opset < MIN_OPSET || opset > MAX_OPSET) throw new OnnxError(`opset ${opset} is not supported (ai.onnx opsets ${MIN_OPSET} to ${MAX_OPSET} are)`);
    this.opset = opset;
    const { graph } = model;
    const inputs = new Set(graph.inputs.map((input) => input.name));
    for (const input of graph.inputs) {
      if (input.elemType !== 0) dtypeOf(input.elemType, `graph input '${input.name}'`);
      this.declared.set(input.name, input);
    }
    for (const [name, value] of graph.initializers) (inputs.has(name) ? this.overridable : this.constants).set(name, value);
    this.inputNames = graph.inputs.map((input) => input.name).filter((name) => !graph.initializers.has(name));
    this.outputNames = graph.outputs.map((output) => output.name);
    const available = new Set([...inputs, ...graph.initializers.keys()]);
    try {
      for (const node of graph.nodes) atNode(node, () => this.addNode(node, available));
      for (const name of this.outputNames) {
        if (!available.has(name)) throw new OnnxError(`graph output '${name}' is produced by no node, initializer or input`);
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  private addNode(node: OnnxNode, available: Set<string>): void {
    if (node.domain !== '') throw new OnnxError(`operators of domain '${node.domain}' are not supported (only ai.onnx)`);
    for (const name of node.inputs) {
      if (name !== '' && !available.has(name)) {
        throw new OnnxError(`input '${name}' is produced by no earlier node, initializer or graph input (nodes must be in topological order)`);
      }
    }
    const context = new NodeContext(node, this.opset);
    const constantInputs = node.inputs.map((name) => (name === '' ? undefined : this.constants.get(name)));
    const isConstant = (i: number) => node.inputs[i] === undefined || node.inputs[i] === '' || constantInputs[i] !== undefined;
    let run: NodeRunner;
    if (RECURRENT.has(node.opType)) {
      const recurrent = new RecurrentNode(context);
      this.recurrent.push(recurrent);
      if (WEIGHT_INPUTS.every(isConstant)) recurrent.loadConstantWeights(constantInputs);
      run = (inputs) => recurrent.run(inputs);
    } else {
      const operator = OPERATORS[node.opType];
      if (!operator) throw new OnnxError(`operator ${node.opType} is not supported; supported: RNN, LSTM, GRU, ${Object.keys(OPERATORS).sort().join(', ')}`);
      run = operator(context);
      context.checkAllRead();
    }
    for (const name of node.outputs.filter((output) => output !== '')) {
      if (available.has(name)) throw new OnnxError(`output '${name}' is already produced elsewhere`);
      available.add(name);
    }
    if (!RECURRENT.has(node.opType) && node.inputs.every((_, i) => isConstant(i))) this.store(node, run(constantInputs), this.constants);
    else this.steps.push({ node, run });
  }

  private store(node: OnnxNode, outputs: Array<Value | undefined>, values: Map<string, Value>): void {
    node.outputs.forEach((name, i) => {
      if (name === '') return;
      const value = outputs[i];
      if (!value) throw new OnnxError(`output ${i} ('${name}') is not produced`);
      values.set(name, value);
    });
  }

  /** Runs the graph on the feeds and returns every graph output. */
  run(feeds: Record<string, unknown>): Record<string, Tensor | IntegerTensor> {
    if (feeds === null || typeof feeds !== 'object') throw new OnnxError(`run(): expected feeds { name: tensor }, got ${feeds === null ? 'null' : typeof feeds}`);
    for (const name of Object.keys(feeds)) {
      if (!this.declared.has(name)) throw new OnnxError(`run(): '${name}' is not an input of the model; inputs: ${this.inputNames.join(', ')}`);
    }
    const values = new Map(this.constants);
    /** Data the caller or the model owns: outputs that share it are copied. */
    const shared = new Set<Float32Array | Float64Array>([...this.constants.values()].map((value) => value.data));
    for (const name of this.declared.keys()) {
      const feed = feeds[name];
      const fallback = this.overridable.get(name);
      if (feed === undefined && !fallback) throw new OnnxError(`run(): missing input '${name}'; inputs: ${this.inputNames.join(', ')}`);
      const value = feed === undefined ? fallback! : feedToValue(feed, this.declared.get(name), name);
      values.set(name, value);
      shared.add(value.data);
    }
    for (const { node, run } of this.steps) {
      const inputs: Inputs = node.inputs.map((name) => (name === '' ? undefined : values.get(name)));
      atNode(node, () => this.store(node, run(inputs), values));
    }
    const results: Record<string, Tensor | IntegerTensor> = {};
    for (const name of this.outputNames) {
      const value = values.get(name)!;
      results[name] = toOutput(value, shared.has(value.data));
      shared.add(value.data);
    }
    return results;
  }

  /** The recurrent nodes' modules, in graph order. */
  layers(): RecurrentModule[] {
    return this.recurrent.flatMap((node) => node.modules());
  }

  dispose(): void {
    for (const node of this.recurrent) node.dispose();
  }
}
