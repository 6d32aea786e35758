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
 * | `profile`  | fine-scale energy across patches and scales (no map)      | no          |
 * | `chroma`   | colour channels' shared fine detail across patches (no map) | no        |
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
import { CHROMA_SPEC, chromaFeatures } from "./chroma.ts";
import { PROFILE_SPEC, profileFeatures } from "./profile.ts";
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
  "profile",
  "chroma",
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
 * The sources without a map, each with how it computes a whole image's vector, what defines
 * those features, and the key under which that definition is saved with models and cached
 * vectors (`residual` kept its own name from before there were others).
 */
const WHOLE_IMAGE: Partial<
  Record<FeatureSource, {
    features: (img: RgbImage) => Float32Array | Promise<Float32Array>;
    spec: { version: number };
    key: string;
  }>
> = {
  residual: { features: residualFeatures, spec: RESIDUAL_SPEC, key: "residual" },
  mobilenet: { features: pretrainedFeatures, spec: PRETRAINED_SPEC, key: "pretrained" },
  profile: { features: profileFeatures, spec: PROFILE_SPEC, key: "profile" },
  chroma: { features: chromaFeatures, spec: CHROMA_SPEC, key: "chroma" },
};

/**
 * Whether a source is computed by an image map (all but `residual`, `mobilenet`, `profile` and
 * `chroma`).
 *
 * @example Which sources need an image map
 * ```ts
 * import { FEATURE_SOURCES, needsMap } from "./mod.ts";
 * console.log(FEATURE_SOURCES.filter((s) => !needsMap(s))); // ["residual", "mobilenet", "profile", "chroma"]
 * ```
 */
export function needsMap(s: FeatureSource): boolean {
  return WHOLE_IMAGE[s] === undefined;
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
  const w = WHOLE_IMAGE[s];
  if (!w) throw new RangeError(`the ${s} features come from an image map`);
  return await w.features(img);
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
  return WHOLE_IMAGE[s]?.spec;
}

/**
 * The key under which a whole-image source's definition ({@link sourceSpec}) is saved in a
 * model's provenance and a feature cache; undefined for map sources.
 *
 * @example
 * ```ts
 * import { specKey } from "./sources.ts";
 * console.log(specKey("residual"), specKey("mobilenet"), specKey("l9")); // residual pretrained undefined
 * ```
 */
export function specKey(s: FeatureSource): string | undefined {
  return WHOLE_IMAGE[s]?.key;
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
    case "profile":
    case "chroma":
      throw new RangeError(`the ${s} source needs no map`);
  }
}
