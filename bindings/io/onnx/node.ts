// What an operator implementation gets for its node at load time: typed attribute reads (each read marks the attribute
// as understood, so unknown ones are reported), input-count checks and the opset; and the signature operators share.

import { OnnxError } from './errors.js';
import type { Attribute, OnnxNode } from './model.js';
import type { Value } from './tensors.js';

/** A node's inputs at run time, positionally; undefined where an optional input is omitted (''). */
export type Inputs = ReadonlyArray<Value | undefined>;

/** Runs one node: inputs → outputs (positionally; undefined for an output the node does not produce). */
export type NodeRunner = (inputs: Inputs) => Array<Value | undefined>;

/** An operator: reads the node's attributes once at load time and returns its runner. */
export type Operator = (node: NodeContext) => NodeRunner;

type KindValue<K extends Attribute['kind']> = Extract<Attribute, { kind: K }>['value'];

export class NodeContext {
  private readonly read = new Set<string>();

  constructor(readonly node: OnnxNode, readonly opset: number) {}

  get opType(): string {
    return this.node.opType;
  }

  /** Throws unless the node has between `min` and `max` inputs with the first `min` present. */
  inputs(min: number, max = min): void {
    const { inputs } = this.node;
    if (inputs.length < min || inputs.length > max) {
      throw new OnnxError(`expected ${min === max ? min : `${min} to ${max}`} inputs, got ${inputs.length}`);
    }
    const missing = inputs.slice(0, min).indexOf('');
    if (missing >= 0) throw new OnnxError(`input ${missing} is required`);
  }

  int(name: string, fallback?: number): number {
    return this.attribute(name, 'int', fallback);
  }

  float(name: string, fallback?: number): number {
    return this.attribute(name, 'float', fallback);
  }

  string(name: string, fallback?: string): string {
    return this.attribute(name, 'string', fallback);
  }

  ints(name: string, fallback?: number[]): number[] {
    return this.attribute(name, 'ints', fallback);
  }

  floats(name: string, fallback?: number[]): number[] {
    return this.attribute(name, 'floats', fallback);
  }

  strings(name: string, fallback?: string[]): string[] {
    return this.attribute(name, 'strings', fallback);
  }

  /** A tensor attribute, or undefined when absent. */
  tensor(name: string): Value | undefined {
    this.read.add(name);
    return this.has(name) ? this.attribute(name, 'tensor', undefined) : undefined;
  }

  has(name: string): boolean {
    return this.node.attributes.has(name);
  }

  /** Throws for attributes no read asked for (called once the operator has read what it understands). */
  checkAllRead(): void {
    for (const name of this.node.attributes.keys()) {
      if (!this.read.has(name)) throw new OnnxError(`attribute '${name}' is not supported`);
    }
  }

  private attribute<K extends Attribute['kind']>(name: string, kind: K, fallback: KindValue<K> | undefined): KindValue<K> {
    this.read.add(name);
    const attribute = this.node.attributes.get(name);
    if (attribute === undefined) {
      if (fallback === undefined) throw new OnnxError(`attribute '${name}' is required`);
      return fallback;
    }
    if (attribute.kind !== kind) {
      throw new OnnxError(`attribute '${name}' must be ${kind === 'ints' || kind === 'floats' || kind === 'strings' ? 'a list of ' : 'a '}${kind}, got ${attribute.kind === 'unsupported' ? attribute.value : attribute.kind}`);
    }
    return attribute.value as KindValue<K>;
  }
}

/** The input at `index`, which must be present. */
export function required(inputs: Inputs, index: number): Value {
  const value = inputs[index];
  if (!value) throw new OnnxError(`input ${index} is required`);
  return value;
}
