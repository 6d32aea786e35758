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
 * | `mobilenet`| early activations of a pretrained CNN (MobileNetV2; no map) | no        |
 *
 * Map sources give one vector per crop (an image's score is the mean over its crops); the
 * sources without a map give one vector per whole image ({@link wholeImageFeatures}).
 *
 * @module
 */

import { tf } from "../core/deps.ts";
import { UsageError } from "../core/errors.ts";
import type { RgbImage } from "../data/image.ts";
import type { Embedding } from "../map/predict.ts";
import { PRETRAINED_SPEC, pretrainedFeatures } from "./pretrained.ts";
import { RESIDUAL_SPEC, residualFeatures } from "./residual.ts";

/** Every feature source. */
export const FEATURE_SOURCES = [
  "l9",
  "l9-pre",
  "l8",
  "l8-pre",
  "trunk",
  "residual",
  "mobilenet",
] as const;

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
 * Whether a source is computed by an image map (all but `residual` and `mobilenet`).
 *
 * @example Which sources need an image map
 * ```ts
 * import { FEATURE_SOURCES, needsMap } from "./mod.ts";
 * console.log(FEATURE_SOURCES.filter((s) => !needsMap(s))); // ["residual", "mobilenet"]
 * ```
 */
export function needsMap(s: FeatureSource): boolean {
  return s !== "residual" && s !== "mobilenet";
}

/**
 * The vector of a whole image, for a source that needs no map.
 *
 * @example The residual statistics of a small grey image
 * ```ts
 * import { wholeImageFeatures } from "./mod.ts";
 * const img = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(128) };
 * console.log((await wholeImageFeatures("residual", img)).length); // 1184
 * ```
 */
export async function wholeImageFeatures(s: FeatureSource, img: RgbImage): Promise<Float32Array> {
  switch (s) {
    case "residual":
      return residualFeatures(img);
    case "mobilenet":
      return await pretrainedFeatures(img);
    default:
      throw new RangeError(`the ${s} features come from an image map`);
  }
}

/**
 * What defines a whole-image source's features, saved with models fitted on them and with
 * cached vectors, so that neither is reused after the definition changes; undefined for map
 * sources (the map's checksum does that for them).
 *
 * @example The residual features' version
 * ```ts
 * import { sourceSpec } from "./mod.ts";
 * console.log(sourceSpec("residual")?.version, sourceSpec("l9")); // 5 undefined
 * ```
 */
export function sourceSpec(s: FeatureSource): { version: number } | undefined {
  return s === "residual" ? RESIDUAL_SPEC : s === "mobilenet" ? PRETRAINED_SPEC : undefined;
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
    case "mobilenet":
      throw new RangeError(`the ${s} source needs no map`);
  }
}
