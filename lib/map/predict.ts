/**
 * Batched inference with a trained ENet: softmax p(CG) and, on request, the L9 features.
 *
 * @module
 */

import { type Tensor2D, tf } from "../core/deps.ts";
import { type ChannelStats, toBatch } from "../data/batch.ts";
import type { RgbImage } from "../data/image.ts";
import type { ENet, ENetOutput } from "./enet.ts";

/** Picks the vectors a caller wants out of a forward pass (`[N, dim]`). */
export type Embedding = (out: ENetOutput) => Tensor2D;

/** Result of {@link predict}. */
export interface Prediction {
  /** Softmax probability of the computer-generated class, per crop. */
  pCg: Float32Array;
  /** Cross-entropy against `labels` when given, averaged. */
  loss?: number;
  /** `[n, dim]` vectors of the requested embedding (row-major), when one was asked for. */
  features?: Float32Array;
  /** Their dimension. */
  dim?: number;
}

/**
 * Runs the model in inference mode over crops, `batchSize` at a time. Crops are fetched
 * lazily through `get(i)` so only one batch of pixels is in memory at once. With `embed`, the
 * vectors it picks from each forward pass are returned too (by default none).
 *
 * @example p(CG) of crops, a batch at a time
 * ```ts
 * import { ENet, predict, SMALL } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { centerCrop, readImage } from "../data/mod.ts";
 * await initBackend("auto");
 * const net = ENet.create(SMALL, 0);
 * const crop = centerCrop(await readImage("dataset/Photos/photo_00001.png"), SMALL.crop);
 * const { pCg } = await predict(net, 1, () => Promise.resolve(crop), { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
 * console.log(pCg[0]);
 * net.dispose();
 * ```
 */
export async function predict(
  net: ENet,
  n: number,
  get: (i: number) => Promise<RgbImage>,
  norm: ChannelStats,
  opts: {
    batchSize?: number;
    embed?: Embedding;
    labels?: number[];
    onBatch?: (done: number) => void;
  } = {},
): Promise<Prediction> {
  const bs = opts.batchSize ?? 32;
  const pCg = new Float32Array(n);
  let features: Float32Array | undefined, dim: number | undefined;
  let lossSum = 0;
  for (let i = 0; i < n; i += bs) {
    const idx = Array.from({ length: Math.min(bs, n - i) }, (_, k) => i + k);
    const crops = await Promise.all(idx.map(get));
    const s = net.cfg.crop;
    const [p, f, l] = tf.tidy(() => {
      const x = tf.tensor4d(toBatch(crops, norm), [crops.length, s, s, 3]);
      const out = net.forward(x, false);
      const prob = tf.softmax(out.logits);
      const loss = opts.labels
        ? tf.losses.softmaxCrossEntropy(
          tf.oneHot(tf.tensor1d(idx.map((j) => opts.labels![j]), "int32"), 2),
          out.logits,
          undefined,
          undefined,
          tf.Reduction.SUM,
        )
        : tf.scalar(0);
      return [tf.slice(prob, [0, 1], [-1, 1]), opts.embed ? opts.embed(out) : tf.zeros([0]), loss];
    });
    pCg.set(await p.data() as Float32Array, i);
    if (opts.embed) {
      dim ??= f.shape[1]!;
      features ??= new Float32Array(n * dim);
      features.set(await f.data() as Float32Array, i * dim);
    }
    lossSum += (await l.data())[0];
    tf.dispose([p, f, l]);
    opts.onBatch?.(i + idx.length);
  }
  return { pCg, features, dim, loss: opts.labels ? lossSum / Math.max(1, n) : undefined };
}
