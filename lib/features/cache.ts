/**
 * L9 features of images, computed with a trained map in inference mode and cached in the map's
 * run folder (`features/<key>.json` + `.bin`), keyed by the model's checksum and the exact list
 * of crops, so a second flow run reuses them and a retrained model never does.
 *
 * @module
 */

import { join } from "node:path";
import { loadBundle, saveBundle } from "../core/bundle.ts";
import type { ChannelStats } from "../data/batch.ts";
import type { ImageStore, View } from "../data/cache.ts";
import { cropOf, type Sample } from "../data/samples.ts";
import type { ENet } from "../map/enet.ts";
import { ensureDir } from "../runs/folder.ts";
import { predict } from "../map/predict.ts";
import { hashString } from "../core/rng.ts";

/** Feature vectors of a list of crops, with the map's p(CG) for each. */
export interface FeatureSet {
  /** One row per sample: `data[i * dim .. (i + 1) * dim]`. */
  data: Float32Array;
  /** Feature dimension. */
  dim: number;
  /** The map's softmax p(CG) per sample (the supervised head's answer). */
  pCg: Float32Array;
  /** Number of samples. */
  n: number;
}

const FORMAT = "cgvsni-features/1";

/** Cache key of a list of samples (names and tiles, order included). */
export function samplesKey(samples: Sample[]): string {
  return hashString(samples.map((s) => `${s.entry.name}#${s.tile}`).join("\n")).map((h) =>
    h.toString(16)
  ).join("");
}

/**
 * The features of `samples`, from `<run>/features/<key>` when cached for this model, else
 * computed (and cached). `onBatch` reports progress.
 */
export async function features(
  run: string,
  key: string,
  net: ENet,
  modelSha: string,
  norm: ChannelStats,
  samples: Sample[],
  store: ImageStore,
  view: View,
  onBatch?: (done: number) => void,
): Promise<FeatureSet & { cached: boolean }> {
  const dir = join(run, "features");
  const sig = samplesKey(samples);
  try {
    const { manifest, arrays } = await loadBundle(dir, key, { format: FORMAT });
    if (manifest.model === modelSha && manifest.samples === sig) {
      const data = arrays.get("features")!.data, pCg = arrays.get("p_cg")!.data;
      return { data, pCg, dim: net.cfg.fc, n: samples.length, cached: true };
    }
  } catch { /* absent or stale: compute */ }
  const r = await predict(
    net,
    samples.length,
    (i) => cropOf(samples[i], store, view, net.cfg.crop),
    norm,
    {
      features: true,
      onBatch,
    },
  );
  await ensureDir(dir);
  await saveBundle(dir, key, FORMAT, [
    { name: "features", shape: [samples.length, net.cfg.fc], data: r.features! },
    { name: "p_cg", shape: [samples.length], data: r.pCg },
  ], { model: modelSha, samples: sig, names: samples.map((s) => `${s.entry.name}#${s.tile}`) });
  return { data: r.features!, pCg: r.pCg, dim: net.cfg.fc, n: samples.length, cached: false };
}
