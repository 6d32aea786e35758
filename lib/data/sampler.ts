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
 * Batches for one epoch over images of classes `classes` (0 natural, 1..K a renderer). An epoch
 * has `ceil(n / batchSize)` batches. `balanced` fills every batch half with natural images and
 * half with rendered ones, the rendered slots cycling through the renderers (so each renderer
 * is seen equally often, however many images it has); each class is drawn without replacement
 * and reshuffled when it runs out (smaller classes are revisited more often, as with the
 * authors' balanced sampler). `shuffle` is a plain permutation and drops a last batch of one
 * image (batch norm needs two).
 */
export function epochBatches(
  classes: number[],
  batchSize: number,
  epoch: number,
  seed: number,
  sampler: Sampler,
): number[][] {
  const rng = new Rng(`sampler:${seed}:${epoch}`);
  const n = classes.length;
  if (n === 0) return [];
  if (sampler === "shuffle") {
    const order = rng.shuffle([...classes.keys()]);
    const out: number[][] = [];
    for (let i = 0; i < n; i += batchSize) out.push(order.slice(i, i + batchSize));
    if (out.length > 1 && out[out.length - 1].length < 2) out.pop();
    return out;
  }
  const ids = [0, ...[...new Set(classes.filter((c) => c > 0))].sort((a, b) => a - b)];
  const pools = ids.map((c) => classes.flatMap((l, i) => (l === c ? [i] : [])));
  if (pools.length < 2 || pools[0].length === 0) {
    throw new RangeError("balanced sampling needs natural and rendered images");
  }
  const queues = pools.map((p) => rng.shuffle([...p]));
  const take = (c: number) => {
    if (queues[c].length === 0) queues[c] = rng.shuffle([...pools[c]]);
    return queues[c].pop()!;
  };
  const out: number[][] = [];
  const batches = Math.ceil(n / batchSize);
  let rendered = 0;
  for (let b = 0; b < batches; b++) {
    const batch: number[] = [];
    for (let k = 0; k < batchSize; k++) {
      batch.push(take(k % 2 === 0 ? 0 : 1 + (rendered++ % (pools.length - 1))));
    }
    out.push(rng.shuffle(batch));
  }
  return out;
}
