// A Node HTTP handler (node:http's (request, response), as serverless platforms for Node call it): the model is loaded
// once per instance, on the first request; POST a JSON body of at most MAX_BODY_BYTES (413 beyond, unread), get JSON.
// Run it as a server with `PORT=8080 node node.mjs`.

import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { init } from 'looptree/infer';
import { MAX_BODY_BYTES, loadModel, predict } from './predict.mjs';

let model; // one per instance: a promise, so that concurrent first requests share one load
function instanceModel() {
  model ??= (async () => {
    const [config, weights] = await Promise.all([
      readFile(new URL('./model/lstm.json', import.meta.url), 'utf8'),
      readFile(new URL('./model/lstm.safetensors', import.meta.url)),
    ]);
    await init();
    return loadModel(JSON.parse(config), weights);
  })();
  return model;
}

function send(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** Reads the body as text, or returns null (after answering 413) once it passes MAX_BODY_BYTES. */
async function readBody(request, response) {
  const declared = Number(request.headers['content-length'] ?? 0);
  const tooLarge = () => {
    response.setHeader('connection', 'close'); // the rest of the body is not read
    send(response, 413, { error: `request body: at most ${MAX_BODY_BYTES} bytes`, code: 'ERR_TOO_LARGE' });
    return null;
  };
  if (declared > MAX_BODY_BYTES) return tooLarge();
  const chunks = [];
  let bytes = 0;
  for await (const chunk of request) {
    bytes += chunk.length;
    if (bytes > MAX_BODY_BYTES) return tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function handler(request, response) {
  if (request.method !== 'POST') {
    send(response, 405, { error: `method: expected POST, got ${request.method}`, code: 'ERR_METHOD' });
    return;
  }
  try {
    const text = await readBody(request, response);
    if (text === null) return;
    const { status, body } = predict(await instanceModel(), text);
    send(response, status, body);
  } catch (error) {
    send(response, 500, { error: 'internal error', code: 'ERR_INTERNAL' });
    console.error(error);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = createServer(handler);
  server.listen(Number(process.env.PORT ?? 8080), () => console.log(`listening on http://localhost:${server.address().port}/`));
}
