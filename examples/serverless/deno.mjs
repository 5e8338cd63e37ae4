// A Deno handler (Deno.serve; Deno Deploy runs the same file): the model is loaded once per instance, when the module
// starts; POST a JSON body of at most MAX_BODY_BYTES (413 beyond), get JSON.
// Run it with `deno run --allow-read --allow-net --allow-env deno.mjs` (PORT sets the port, default 8000).

import { init } from 'looptree/infer';
import { MAX_BODY_BYTES, loadModel, predict } from './predict.mjs';

await init();
const model = loadModel(
  JSON.parse(await Deno.readTextFile(new URL('./model/lstm.json', import.meta.url))),
  await Deno.readFile(new URL('./model/lstm.safetensors', import.meta.url)),
);

const json = (status, body) => Response.json(body, { status });

/** The body as text, or null once it passes MAX_BODY_BYTES (read as a stream: a missing Content-Length cannot slip past). */
async function readBody(request) {
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return null;
  const chunks = [];
  let bytes = 0;
  for await (const chunk of request.body ?? []) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
}

Deno.serve({ port: Number(Deno.env.get('PORT') ?? 8000), onListen: ({ port }) => console.log(`listening on http://localhost:${port}/`) }, async (request) => {
  if (request.method !== 'POST') return json(405, { error: `method: expected POST, got ${request.method}`, code: 'ERR_METHOD' });
  const text = await readBody(request);
  if (text === null) return json(413, { error: `request body: at most ${MAX_BODY_BYTES} bytes`, code: 'ERR_TOO_LARGE' });
  const { status, body } = predict(model, text);
  return json(status, body);
});
