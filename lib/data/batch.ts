/**
 * From 8-bit crops to network input: per-channel normalisation statistics and float batches.
 *
 * @module
 */

import type { RgbImage } from "./image.ts";

/** Per-channel statistics of pixel values scaled to [0, 1]. */
export interface ChannelStats {
  /** Mean of R, G, B. */
  mean: [number, number, number];
  /** Standard deviation of R, G, B (never 0). */
  std: [number, number, number];
}

/** The paper protocol's fixed normalisation: `(v - 0.5) / 0.5`, i.e. [-1, 1]. */
export const HALF_STATS: ChannelStats = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

/**
 * Mean and standard deviation per channel over all pixels of `crops` (values in [0, 1]).
 *
 * @example Per-channel statistics of crops
 * ```ts
 * import { centerCrop, channelStats, readImage } from "./mod.ts";
 * const crop = centerCrop(await readImage("dataset/Photos/photo_00001.png"), 96);
 * console.log(channelStats([crop]).mean);
 * ```
 */
export function channelStats(crops: Iterable<RgbImage>): ChannelStats {
  const sum = [0, 0, 0], sq = [0, 0, 0];
  let n = 0;
  for (const c of crops) {
    const d = c.data;
    const s = [0, 0, 0], q = [0, 0, 0];
    for (let i = 0; i < d.length; i += 3) {
      for (let k = 0; k < 3; k++) {
        const v = d[i + k];
        s[k] += v;
        q[k] += v * v;
      }
    }
    for (let k = 0; k < 3; k++) {
      sum[k] += s[k];
      sq[k] += q[k];
    }
    n += d.length / 3;
  }
  if (n === 0) throw new RangeError("no pixels to compute statistics from");
  const mean = sum.map((s) => s / n / 255) as [number, number, number];
  const std = sq.map((q, k) => Math.sqrt(Math.max(q / n / 65025 - mean[k] ** 2, 0))) as [
    number,
    number,
    number,
  ];
  return { mean, std: std.map((s) => (s > 1e-6 ? s : 1)) as [number, number, number] };
}

/**
 * Packs same-sized crops into one normalised NHWC float batch:
 * `(v / 255 - mean[c]) / std[c]`.
 *
 * @example Crops to a normalised NHWC batch
 * ```ts
 * import { centerCrop, channelStats, readImage, toBatch } from "./mod.ts";
 * const crop = centerCrop(await readImage("dataset/Photos/photo_00001.png"), 96);
 * const x = toBatch([crop, crop], channelStats([crop]));
 * console.log(x.length); // 2 * 96 * 96 * 3
 * ```
 */
export function toBatch(crops: RgbImage[], stats: ChannelStats): Float32Array {
  if (crops.length === 0) return new Float32Array(0);
  const { width, height } = crops[0];
  const px = width * height * 3;
  const out = new Float32Array(crops.length * px);
  const a = stats.std.map((s) => 1 / (255 * s));
  const b = stats.mean.map((m, k) => -m / stats.std[k]);
  crops.forEach((c, i) => {
    if (c.width !== width || c.height !== height) {
      throw new RangeError("crops of different sizes in one batch");
    }
    const d = c.data, o = i * px;
    for (let j = 0; j < px; j += 3) {
      out[o + j] = d[j] * a[0] + b[0];
      out[o + j + 1] = d[j + 1] * a[1] + b[1];
      out[o + j + 2] = d[j + 2] * a[2] + b[2];
    }
  });
  return out;
}
