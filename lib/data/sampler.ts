/**
 * The order in which training images are visited in an epoch, as lists of indices per batch.
 * Seeded by (seed, epoch), so a resumed run visits exactly the batches a clean run would.
 *
 * @module
 */

import { Rng } from "../core/rng.ts";

/** `balanced`: every batch half natural, half rendered; `shuffle`: a plain permutation. */
export type Sampler = "balanced" | "shuffle";

/**
 * Batches for one epoch over images with binary `labels` (0 natural, 1 rendered). An epoch has
 * `ceil(n / batchSize)` batches. `balanced` draws each class without replacement, reshuffling
 * a class when it runs out (the minority class is revisited more often, as with the authors'
 * balanced sampler). `shuffle` drops a last batch of one image (batch norm needs two).
 */
export function epochBatches(
  labels: number[],
  batchSize: number,
  epoch: number,
  seed: number,
  sampler: Sampler,
): number[][] {
  const rng = new Rng(`sampler:${seed}:${epoch}`);
  const n = labels.length;
  if (n === 0) return [];
  if (sampler === "shuffle") {
    const order = rng.shuffle([...labels.keys()]);
    const out: number[][] = [];
    for (let i = 0; i < n; i += batchSize) out.push(order.slice(i, i + batchSize));
    if (out.length > 1 && out[out.length - 1].length < 2) out.pop();
    return out;
  }
  const pools = [0, 1].map((c) => labels.flatMap((l, i) => (l === c ? [i] : [])));
  if (pools.some((p) => p.length === 0)) {
    throw new RangeError("balanced sampling needs images of both classes");
  }
  const queues = pools.map((p) => rng.shuffle([...p]));
  const take = (c: number) => {
    if (queues[c].length === 0) queues[c] = rng.shuffle([...pools[c]]);
    return queues[c].pop()!;
  };
  const out: number[][] = [];
  const batches = Math.ceil(n / batchSize);
  for (let b = 0; b < batches; b++) {
    const batch: number[] = [];
    for (let k = 0; k < batchSize; k++) batch.push(take(k % 2));
    out.push(rng.shuffle(batch));
  }
  return out;
}
