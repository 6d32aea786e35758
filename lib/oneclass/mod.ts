/**
 * Stage 4, one-class models fitted on natural images only, scikit-learn style (`fit`, `score`
 * > 0 = computer-generated, `predict`, `save`/`load`, the threshold saved with the model):
 * Flow-SVDD (the method), Deep SVDD, a Gaussian (Ledoit-Wolf Mahalanobis) and k-NN; and the
 * training stage that fits them on a map run's features.
 *
 * @module
 */

export {
  DEFAULT_NU,
  type EstimatorOptions,
  type FeatureProvenance,
  type FitOptions,
  ONECLASS_KINDS,
  OneClassEstimator,
  type OneClassKind,
  type SavedModel,
  type ThresholdFrom,
} from "./estimator.ts";
export { type FlowArch, type FlowOptions, FlowSvdd } from "./flow.ts";
export { DeepSvdd, type DeepSvddOptions, type MlpArch } from "./deep_svdd.ts";
export { GaussianOneClass, type GaussOptions } from "./gauss.ts";
export { type KnnMetric, KnnOneClass, type KnnOptions } from "./knn.ts";
export { type AnyOptions, createOneClass, loadOneClass, otherFeatureVersion } from "./io.ts";
export {
  FEATURE_NORMS,
  type FeatureNorm,
  fitStandardisation,
  Normaliser,
  type Standardisation,
} from "./normalise.ts";
export {
  BiasFreeMlp,
  type FeatureMap,
  type FlowConfig,
  type MapParam,
  type MlpConfig,
  NiceFlow,
} from "./networks.ts";
export {
  SVDD_DEFAULTS,
  type SvddEpoch,
  SvddEstimator,
  type SvddOptions,
  SvddTrainer,
} from "./_svdd.ts";
export {
  oneclassPool,
  type OneClassRunConfig,
  type OneClassSummary,
  trainOneClass,
  type TrainOneClassOptions,
  type TrainOneClassResult,
} from "./train.ts";
