/**
 * Where the one-class stage's vectors come from (`--features`):
 *
 * | source     | what                                                      | needs a map |
 * | ---------- | --------------------------------------------------------- | ----------- |
 * | `l9`       | L9 after its ReLU: the method's feature (default)         | yes         |
 * | `l9-pre`   | L9 before the ReLU (renders' low activations stay signed) | yes         |
 * | `l8`       | L8 after its ReLU                                         | yes         |
 * | `l8-pre`   | L8 before the ReLU                                        | yes         |
 * | `trunk`    | global average and max of the last conv block             | yes         |
 * | `residual` | noise-residual statistics of the image (no map)           | no          |
 *
 * Map sources give one vector per crop (an image's score is the mean over its crops); the
 * residual source gives one vector per whole image.
 *
 * @module
 */

import { tf } from "../core/deps.ts";
import { UsageError } from "../core/errors.ts";
import type { Embedding } from "../map/predict.ts";

/** Every feature source. */
export const FEATURE_SOURCES = ["l9", "l9-pre", "l8", "l8-pre", "trunk", "residual"] as const;

/** A feature source. */
export type FeatureSource = typeof FEATURE_SOURCES[number];

/** The default feature source (the method's). */
export const DEFAULT_SOURCE: FeatureSource = "l9";

/** Checks a `--features` value. */
export function checkSource(v: string): FeatureSource {
  if (!(FEATURE_SOURCES as readonly string[]).includes(v)) {
    throw new UsageError(`features must be one of ${FEATURE_SOURCES.join(", ")}, got "${v}"`);
  }
  return v as FeatureSource;
}

/**
 * Whether a source is computed by an image map (all but `residual`).
 *
 * @example Which sources need an image map
 * ```ts
 * import { FEATURE_SOURCES, needsMap } from "./mod.ts";
 * console.log(FEATURE_SOURCES.filter((s) => !needsMap(s))); // ["residual"]
 * ```
 */
export function needsMap(s: FeatureSource): boolean {
  return s !== "residual";
}

/** The vectors a map source picks out of an ENet forward pass. */
export function embedding(s: FeatureSource): Embedding {
  switch (s) {
    case "l9":
      return (o) => o.features;
    case "l9-pre":
      return (o) => o.l9pre;
    case "l8":
      return (o) => o.l8;
    case "l8-pre":
      return (o) => o.l8pre;
    case "trunk":
      return (o) =>
        tf.concat([tf.mean(o.trunk, [1, 2]), tf.max(o.trunk, [1, 2])], 1) as tf.Tensor2D;
    case "residual":
      throw new RangeError("the residual source needs no map");
  }
}
