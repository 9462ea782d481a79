// Weighting the known task adapters for a task the model was not trained on, by how close its
// instruction is to theirs in CLIP's text embedding space.

import { tensor } from '@unicontrol/core';
import type { ClipTokenizer, TaskName, UniControlModel } from '@unicontrol/model';
import { TASK_INFO } from '../tasks.ts';

const EOS = 49407;

/**
 * CLIP's pooled text embedding of each text: the final hidden state at the end-of-text token (what
 * CLIP itself compares with images). Not the first-token "task feature", which is the same for every
 * instruction (the encoder is causal and position 0 only sees the start token).
 */
export async function pooledEmbeddings(model: UniControlModel, tokenizer: ClipTokenizer, texts: readonly string[]): Promise<Float32Array[]> {
  const ids = tokenizer.tokenize(texts);
  const tokens = ids.length / texts.length;
  const hidden = (await model.device.scope(() => model.encodeText(tensor(model.device, ids, [texts.length, tokens], { dtype: 'i32' }))).read()) as Float32Array;
  const width = hidden.length / (texts.length * tokens);
  return texts.map((_, b) => {
    let eos = 0;
    while (eos < tokens - 1 && ids[b * tokens + eos] !== EOS) eos++;
    const at = (b * tokens + eos) * width;
    return hidden.slice(at, at + width);
  });
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb || 1);
}

/**
 * Adapter weights for an unseen task: the cosine similarity of its instruction's pooled embedding
 * to each known instruction's, keeping the `topK` most similar (default 3) with weights
 * proportional to their (positive) similarity. Returns the weights by task name and the
 * similarities of all tasks (for display).
 */
export async function adapterWeightsBySimilarity(
  model: UniControlModel,
  tokenizer: ClipTokenizer,
  instruction: string,
  { topK = 3 }: { topK?: number } = {},
): Promise<{ weights: Partial<Record<TaskName, number>>; similarity: Record<TaskName, number> }> {
  const tasks = TASK_INFO.slice(0, model.config.controlNet.numTasks);
  const [query, ...known] = await pooledEmbeddings(model, tokenizer, [instruction, ...tasks.map((t) => t.instruction)]);
  const similarity = Object.fromEntries(tasks.map((t, i) => [t.name, cosine(query, known[i])])) as Record<TaskName, number>;
  const ranked = tasks.map((t) => t.name).sort((a, b) => similarity[b] - similarity[a]);
  const kept = ranked.slice(0, Math.max(1, topK)).filter((name) => similarity[name] > 0);
  // No positive similarity at all: the single closest task.
  if (kept.length === 0) return { weights: { [ranked[0]]: 1 }, similarity };
  const total = kept.reduce((s, n) => s + similarity[n], 0);
  return { weights: Object.fromEntries(kept.map((n) => [n, similarity[n] / total])), similarity };
}
