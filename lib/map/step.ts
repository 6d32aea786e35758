/**
 * One training step of the image map, and its validation: what `trainMap` repeats each epoch.
 *
 * @module
 */

import { tf } from "../core/deps.ts";
import { stepEnded } from "../backends/select.ts";
import type { Optimizer } from "../backends/optim.ts";
import type { ChannelStats } from "../data/batch.ts";
import type { RgbImage } from "../data/image.ts";
import type { Sample } from "../data/samples.ts";
import type { BatchMoments, ENet } from "./enet.ts";
import { predict } from "./predict.ts";

/**
 * One optimisation step on a normalised NHWC batch with binary labels: forward in training
 * mode, cross-entropy (+ L1 on non-bias weights), backward, optimiser update, BN running
 * statistics. Returns the batch's mean loss and correct predictions; a non-finite loss is
 * returned without touching the weights.
 *
 * @example One training step on a batch
 * ```ts
 * import { ENet, trainStep } from "./mod.ts";
 * import { initBackend, SgdMomentum } from "../backends/mod.ts";
 * await initBackend("auto");
 * const cfg = { crop: 77, conv0: 4, width: 4, trunk: [4, 4, 4] as [number, number, number], fc: 8, classes: 2, dropout: 0, trainSrm: false };
 * const net = ENet.create(cfg, 0);
 * const opt = new SgdMomentum(net.trainable(), 0.9);
 * const x = new Float32Array(2 * 77 * 77 * 3).map((_, i) => Math.sin(i));
 * console.log((await trainStep(net, opt, x, [0, 1], { lr: 0.01 })).loss);
 * opt.dispose();
 * net.dispose();
 * ```
 */
export async function trainStep(
  net: ENet,
  opt: Optimizer,
  batch: Float32Array,
  labels: number[],
  o: { lr: number; l1?: number; dropoutSeed?: number },
): Promise<{ loss: number; hits: number }> {
  const trainable = net.trainable();
  const varName = new Map([...trainable].map(([n, v]) => [v.name, n]));
  const s = net.cfg.crop;
  const moments: BatchMoments[] = [];
  let hitsT: tf.Tensor | undefined;
  const { value, grads } = tf.tidy(() => {
    const x = tf.tensor4d(batch, [labels.length, s, s, 3]);
    const y = tf.tensor1d(labels, "int32");
    const onehot = tf.oneHot(y, 2);
    return tf.variableGrads(() => {
      const { logits } = net.forward(x, true, o.dropoutSeed ?? 0, moments);
      hitsT = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32")));
      let l = tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
      if (o.l1) {
        const weights = [...trainable].filter(([n]) => !/\.(b|beta)$/.test(n)).map(([, v]) =>
          tf.sum(tf.abs(v))
        );
        l = tf.add(l, tf.mul(o.l1, tf.addN(weights))) as tf.Scalar;
      }
      return l;
    }, [...trainable.values()]);
  });
  // read asynchronously: WebGPU cannot read a tensor synchronously in Deno
  const loss = (await value.data())[0], hits = (await hitsT!.data())[0];
  if (Number.isFinite(loss)) {
    tf.tidy(() =>
      opt.step(new Map(Object.entries(grads).map(([k, g]) => [varName.get(k)!, g])), o.lr)
    );
    net.updateRunningStats(moments);
  } else tf.dispose(moments.flatMap((m) => [m.mean, m.variance]));
  tf.dispose([value, hitsT!, ...Object.values(grads)]);
  stepEnded();
  return { loss, hits };
}

/** Name of the first model tensor holding a NaN or infinity, if any. */
export async function firstNonFinite(net: ENet): Promise<string | undefined> {
  for (const [name, values] of await net.values()) {
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return name;
  }
  return undefined;
}

/** What validation measures after each epoch (part of a line of `metrics.jsonl`). */
export interface Validation {
  /** Mean validation cross-entropy. */
  val_loss: number;
  /** Accuracy over validation crops. */
  val_acc: number;
  /** Accuracy over validation images (mean p(CG) of their crops). */
  val_image_acc: number;
  /** Share of natural validation crops classified natural. */
  val_recall_natural: number;
  /** Share of rendered validation crops classified rendered. */
  val_recall_cg: number;
  /** The same per renderer (class name → recall), when the map learns several. */
  val_recall: Record<string, number>;
}

/**
 * Loss and accuracy on the validation crops (inference mode), the image-level accuracy (mean
 * p(CG) over an image's crops), and the recall of every class; `names` maps labels to names.
 */
export async function validate(
  net: ENet,
  val: Sample[],
  crop: (s: Sample) => Promise<RgbImage>,
  norm: ChannelStats,
  names: Map<number, string>,
): Promise<Validation> {
  const labels = val.map((s) => (s.entry.label === 0 ? 0 : 1));
  const { pCg, loss } = await predict(net, val.length, (i) => crop(val[i]), norm, { labels });
  let hit = 0;
  const perClass = new Map<number, { hit: number; n: number }>();
  const perImage = new Map<string, { sum: number; n: number; label: number }>();
  labels.forEach((l, i) => {
    const ok = (pCg[i] >= 0.5 ? 1 : 0) === l;
    hit += +ok;
    const c = perClass.get(val[i].entry.label) ?? { hit: 0, n: 0 };
    c.hit += +ok;
    c.n++;
    perClass.set(val[i].entry.label, c);
    const im = perImage.get(val[i].entry.name) ?? { sum: 0, n: 0, label: l };
    im.sum += pCg[i];
    im.n++;
    perImage.set(val[i].entry.name, im);
  });
  const imageHits =
    [...perImage.values()].filter((m) => (m.sum / m.n >= 0.5 ? 1 : 0) === m.label).length;
  const round = (x: number) => +x.toFixed(6);
  const recall = (pick: (label: number) => boolean) => {
    let h = 0, n = 0;
    for (const [label, c] of perClass) if (pick(label)) [h, n] = [h + c.hit, n + c.n];
    return round(h / Math.max(1, n));
  };
  return {
    val_loss: round(loss ?? NaN),
    val_acc: round(hit / val.length),
    val_image_acc: round(imageHits / perImage.size),
    val_recall_natural: recall((l) => l === 0),
    val_recall_cg: recall((l) => l > 0),
    val_recall: Object.fromEntries(
      [...perClass.keys()].sort((a, b) => a - b).filter((l) => l > 0).map((
        l,
      ) => [names.get(l) ?? String(l), recall((x) => x === l)]),
    ),
  };
}
