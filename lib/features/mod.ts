/**
 * Stage 3, features: the vectors the one-class stage works on, from the map's layers or from
 * the image itself (noise-residual statistics, their profile across patches and scales, how the
 * colour channels share fine detail, or a pretrained CNN's early activations, no map),
 * computed and cached.
 *
 * @module
 */

export {
  DEFAULT_SOURCE,
  FEATURE_SOURCES,
  type FeatureSource,
  needsMap,
  sourceSpec,
  wholeImageFeatures,
} from "./sources.ts";
export {
  PRETRAINED_DIM,
  PRETRAINED_SPEC,
  pretrainedFeatures,
  releasePretrained,
} from "./pretrained.ts";
export {
  RESIDUAL_DIM,
  RESIDUAL_PARTS,
  RESIDUAL_SPEC,
  residualFeatures,
  texturedPatches,
} from "./residual.ts";
export {
  PROFILE_DIM,
  PROFILE_SIDE,
  PROFILE_SPEC,
  profileFeatures,
  profilePatches,
} from "./profile.ts";
export { CHROMA_DIM, CHROMA_SPEC, chromaFeatures } from "./chroma.ts";
export {
  adoptFeatures,
  cachedSamples,
  extractFeatures,
  extractFeatureShard,
  type ExtractOptions,
  type FeatureSet,
} from "./extract.ts";
export type { Sample } from "../data/samples.ts";
