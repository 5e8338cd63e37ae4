// OnnxError: what loadOnnx and a model's run throw for bytes, graphs, nodes or feeds they cannot run, naming the node and op.

import { LooptreeError } from '../../index.js';

/** A malformed ONNX model, or one using an operator, attribute, opset, data type or feature looptree does not run (code `'ERR_ONNX'`). */
export class OnnxError extends LooptreeError {
  /** The node's name (or `OpType #index` when unnamed), when the error concerns one node. */
  readonly node?: string;
  /** The node's op_type, when the error concerns one node. */
  readonly op?: string;

  constructor(message: string, where?: { node: string; op: string }) {
    super('ERR_ONNX', where ? `node '${where.node}' (${where.op}): ${message}` : message);
    this.node = where?.node;
    this.op = where?.op;
  }
}
