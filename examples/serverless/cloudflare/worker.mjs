// A Cloudflare Worker (wrangler.toml beside it): workerd forbids compiling Wasm from bytes, so the .wasm is imported as a
// module (compiled at deploy) and passed to initSync; the weights are bundled as a Data module. The model is built once
// per isolate, on the first request; POST a JSON body of at most MAX_BODY_BYTES (413 beyond), get JSON.

import { initSync } from 'looptree/infer';
import wasm from 'looptree/looptree-baseline.wasm';
import { MAX_BODY_BYTES, loadModel, predict } from '../predict.mjs';
import config from '../model/lstm.json';
import weights from '../model/lstm.safetensors';

let model; // one per isolate
function isolateModel() {
  if (!model) {
    initSync({ module: wasm });
    model = loadModel(config, weights);
  }
  return model;
}

const json = (status, body) => Response.json(body, { status });

export default {
  async fetch(request) {
    if (request.method !== 'POST') return json(405, { error: `method: expected POST, got ${request.method}`, code: 'ERR_METHOD' });
    if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) {
      return json(413, { error: `request body: at most ${MAX_BODY_BYTES} bytes`, code: 'ERR_TOO_LARGE' });
    }
    const bytes = await request.arrayBuffer(); // a chunked body has no Content-Length: its size is checked as read
    if (bytes.byteLength > MAX_BODY_BYTES) return json(413, { error: `request body: at most ${MAX_BODY_BYTES} bytes`, code: 'ERR_TOO_LARGE' });
    const { status, body } = predict(isolateModel(), new TextDecoder().decode(bytes));
    return json(status, body);
  },
};
