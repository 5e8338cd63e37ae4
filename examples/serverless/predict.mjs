// The part every serverless example shares: build the model once from its config and .safetensors bytes, and turn a
// JSON request body into the JSON answer (or an HTTP status and the typed error's message). Imports looptree/infer only.

import { ArgumentError, LSTM, LooptreeError, parseSafetensors } from 'looptree/infer';

/** The largest request body the handlers read, in bytes (1 MiB: about 100,000 input numbers as JSON). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** The model of model/: an LSTM with the config of lstm.json and the weights of lstm.safetensors (PyTorch's state dict). */
export function loadModel(config, weights) {
  const lstm = new LSTM(config);
  lstm.loadStateDict(parseSafetensors(new Uint8Array(weights)));
  return lstm;
}

/** An answer to send: HTTP status and JSON body. */
const answer = (status, body) => ({ status, body });

/**
 * The answer to one request body (a string): `{ "input": [[[…]]] }` — [B, T, inputSize] (the model is batch-first) or
 * [T, inputSize] — gives 200 and `{ output: { shape, data }, h: { shape, data } }`; anything else gives 400 and
 * `{ error, code }` with the library's typed error's message.
 */
export function predict(model, text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return answer(400, { error: `request body: expected JSON, got ${error.message}`, code: 'ERR_JSON' });
  }
  try {
    if (body === null || typeof body !== 'object' || Array.isArray(body) || !Object.hasOwn(body, 'input')) {
      throw new ArgumentError('request body: expected a JSON object { "input": [[[…]]] } of shape [batch, steps, inputSize] or [steps, inputSize]');
    }
    const { output, h } = model.forward(body.input);
    const plain = (t) => ({ shape: t.shape, data: Array.from(t.data) });
    return answer(200, { output: plain(output), h: plain(h) });
  } catch (error) {
    if (error instanceof LooptreeError) return answer(400, { error: error.message, code: error.code });
    throw error;
  }
}
