// The Train and Generate panels' Web Worker: a character LSTM (Embedding → LSTM → Dropout → Linear) trained with Adam on random
// windows of a text, step by step so that it can pause, report loss, validation loss and tokens/s, and sample; then
// generate() streams tokens back one message each.

import { Dropout, Embedding, LSTM, Linear, Sequential, backendInfo, generate, init, manualSeed, seededRandom, tensor } from 'looptree';

export type TrainRequest =
  | { type: 'start'; text: string; maxSteps: number; hiddenSize: number; batch: number; window: number; sampleEvery: number; validateEvery: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'generate'; prompt: string; maxTokens: number; temperature: number; topK: number; topP: number; seed: number };

export type TrainMessage =
  | { type: 'ready'; simd: string; alphabet: number; trainChars: number; validationChars: number }
  | { type: 'step'; step: number; loss: number; tokensPerSecond: number }
  | { type: 'validation'; step: number; loss: number }
  | { type: 'sample'; step: number; text: string }
  | { type: 'paused' | 'resumed' | 'finished'; step: number }
  | { type: 'token'; text: string; index: number }
  | { type: 'generated'; text: string; tokens: number }
  | { type: 'error'; message: string };

const post = (message: TrainMessage) => postMessage(message);
const backend = init();

interface Session {
  model: Sequential;
  alphabet: string[];
  idOf: Map<string, number>;
  step: number;
  paused: boolean;
  finished: boolean;
}
let session: Session | null = null;

/** B windows of `length` + 1 characters at random offsets: inputs [B, length] and next-character targets [B, length]. */
function windows(ids: Int32Array, B: number, length: number, random: () => number) {
  const x = new Float32Array(B * length), y = new Float32Array(B * length);
  for (let b = 0; b < B; b++) {
    const start = Math.floor(random() * (ids.length - length - 1));
    for (let t = 0; t < length; t++) {
      x[b * length + t] = ids[start + t];
      y[b * length + t] = ids[start + t + 1];
    }
  }
  return { x: tensor(x, [B, length]), y: tensor(y, [B, length]) };
}

const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

async function start(request: Extract<TrainRequest, { type: 'start' }>) {
  await backend;
  const { simd } = backendInfo();
  session?.model.dispose();
  const text = request.text.replace(/\r/g, '');
  const alphabet = [...new Set(text)].sort();
  const idOf = new Map(alphabet.map((char, id) => [char, id]));
  const ids = Int32Array.from(text, (char) => idOf.get(char)!);
  const split = Math.floor(ids.length * 0.9);
  const train = ids.subarray(0, split), validationIds = ids.subarray(split);
  if (train.length < request.window + 2 || validationIds.length < request.window + 2) throw new Error(`the text is too short: it needs at least ${10 * (request.window + 2)} characters`);
  manualSeed(1);
  const model = new Sequential([
    new Embedding({ numEmbeddings: alphabet.length, embeddingDim: 32 }),
    new LSTM({ inputSize: 32, hiddenSize: request.hiddenSize, batchFirst: true }),
    new Dropout({ p: 0.2 }),
    new Linear({ inFeatures: request.hiddenSize, outFeatures: alphabet.length }),
  ]);
  model.compile({ loss: 'crossEntropy', optimizer: { type: 'adam', lr: 5e-3 }, clipGradNorm: 1 });
  const current: Session = { model, alphabet, idOf, step: 0, paused: false, finished: false };
  session = current;
  post({ type: 'ready', simd, alphabet: alphabet.length, trainChars: train.length, validationChars: validationIds.length });
  const random = seededRandom(7);
  const validation = windows(validationIds, 32, request.window, seededRandom(8));
  let started = performance.now(), tokens = 0;
  while (session === current && current.step < request.maxSteps) {
    if (current.paused) {
      await nextTurn();
      started = performance.now();
      tokens = 0;
      continue;
    }
    const batch = windows(train, request.batch, request.window, random);
    const history = model.fit(batch.x, batch.y, { epochs: 1, batchSize: request.batch, shuffle: false, verbose: false });
    current.step++;
    tokens += request.batch * request.window;
    post({ type: 'step', step: current.step, loss: history.loss[0], tokensPerSecond: tokens / ((performance.now() - started) / 1000) });
    if (current.step % request.validateEvery === 0 || current.step === 1) {
      post({ type: 'validation', step: current.step, loss: model.evaluate(validation.x, validation.y, { batchSize: 32 }).loss });
    }
    if (current.step % request.sampleEvery === 0) {
      const prompt = alphabet.includes('T') ? 'T' : alphabet[0];
      const sampled = generate(model, [idOf.get(prompt)!], { maxTokens: 160, temperature: 0.8, seed: current.step });
      post({ type: 'sample', step: current.step, text: prompt + sampled.map((id) => alphabet[id]).join('') });
    }
    await nextTurn();
  }
  if (session === current) {
    current.finished = true;
    post({ type: 'finished', step: current.step });
  }
}

function generateText(request: Extract<TrainRequest, { type: 'generate' }>) {
  if (!session) throw new Error('train a model first (Train panel)');
  const { model, alphabet, idOf } = session;
  const prompt = [...request.prompt].filter((char) => idOf.has(char));
  if (prompt.length === 0) prompt.push(alphabet[0]);
  let text = '';
  const ids = generate(model, prompt.map((char) => idOf.get(char)!), {
    maxTokens: request.maxTokens, temperature: request.temperature, topK: request.topK, topP: request.topP, seed: request.seed,
    onToken: (id, index) => {
      text += alphabet[id];
      post({ type: 'token', text: alphabet[id], index });
    },
  });
  post({ type: 'generated', text, tokens: ids.length });
}

onmessage = (event: MessageEvent<TrainRequest>) => {
  const request = event.data;
  const fail = (error: unknown) => post({ type: 'error', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  try {
    if (request.type === 'start') start(request).catch(fail);
    else if (request.type === 'generate') generateText(request);
    else if (session) {
      session.paused = request.type === 'pause';
      post({ type: request.type === 'pause' ? 'paused' : 'resumed', step: session.step });
    }
  } catch (error) {
    fail(error);
  }
};
