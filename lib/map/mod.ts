/**
 * Stage 2, the image map: ENet (two branches, one with the 30 SRM high-pass filters), its
 * training on natural images and renders, saving and loading, inference, and the map run
 * every later stage opens.
 *
 * @module
 */

export {
  type BatchMoments,
  ENet,
  type ENetConfig,
  type ENetOutput,
  type Init,
  minCrop,
  PAPER,
  parameterCount,
  type ParamSpec,
  PRESETS,
  shapes,
  SMALL,
} from "./enet.ts";
export { SRM_KERNELS } from "./srm.ts";
export { loadENet, saveENet } from "./io.ts";
export { type Embedding, predict, type Prediction } from "./predict.ts";
export {
  type AugmentName,
  type ClassRef,
  type ImageMap,
  loadImageMap,
  type MapRun,
  type MapRunConfig,
  type MapRunInfo,
  openMapRun,
  type Protocol,
  readMapRun,
} from "./run.ts";
export {
  DEFAULT_CACHE_MB,
  type EpochMetrics,
  mapTrainingSets,
  trainMap,
  type TrainMapOptions,
  type TrainMapResult,
} from "./train.ts";
export { trainStep, type Validation } from "./step.ts";
export {
  HEAD_THRESHOLD_FILE,
  HEAD_THRESHOLD_TILES,
  type HeadThreshold,
  headThreshold,
  type HeadThresholdOptions,
  naturalHeadScores,
  setHeadThreshold,
  UNSET_HEAD_THRESHOLD,
} from "./threshold.ts";
