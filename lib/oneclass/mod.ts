/**
 * Stage 4, one-class models fitted on natural images only, scikit-learn style (settings in the
 * constructor, `fit`, `scoreSamples`, `decisionFunction` > 0 = computer-generated, `predict`,
 * `save`/`load`, the threshold saved with the model):
 * Flow-SVDD (the method), Deep SVDD, a Gaussian (Ledoit-Wolf Mahalanobis), a mixture of them and
 * k-NN; and the training stage that fits them on a map run's features.
 *
 * @module
 */

export {
  DEFAULT_KIND,
  DEFAULT_NU,
  DEFAULT_THRESHOLD,
  type EpochDriver,
  type EpochTrainer,
  type EstimatorOptions,
  type FeatureProvenance,
  type FitOptions,
  ONECLASS_KINDS,
  ONECLASS_STEM,
  OneClassEstimator,
  type OneClassKind,
  type SavedModel,
  THRESHOLD_MODES,
  type ThresholdFrom,
} from "./estimator.ts";
export { type FlowArch, type FlowOptions, FlowSvdd } from "./flow.ts";
export { DeepSvdd, type DeepSvddOptions, type MlpArch } from "./deep_svdd.ts";
export { GAUSS_DEFAULTS, GaussianOneClass, type GaussOptions } from "./gauss.ts";
export { KNN_DEFAULTS, type KnnMetric, KnnOneClass, type KnnOptions } from "./knn.ts";
export {
  GMM_DEFAULTS,
  GMM_FITS,
  GMM_SCORINGS,
  type GmmFit,
  type GmmOptions,
  type GmmScoring,
  MixtureOneClass,
} from "./gmm.ts";
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
  DEFAULT_CHECKPOINT_EVERY,
  DEFAULT_ONECLASS_RUN,
  oneclassPool,
  type OneClassRunConfig,
  type OneClassRunInfo,
  type OneClassSummary,
  openOneClassRun,
  trainOneClass,
  type TrainOneClassOptions,
  type TrainOneClassResult,
} from "./train.ts";
