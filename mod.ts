/**
 * cgvsni: tell computer-generated (rendered) images from natural photographs, with a two-stage
 * method that is meant to keep working on renderers it never saw in training:
 *
 * 1. an image map, ENet (a two-branch CNN with fixed SRM high-pass filters), trained
 *    supervised on natural images and the images of one renderer; its L9 layer is a 4096-d
 *    feature of an image;
 * 2. a one-class model on those features of natural images only (a volume-preserving flow
 *    with an SVDD objective), which flags anything outside its ball as computer-generated.
 *
 * Everything runs on tfjs: on a native oneDNN backend (Debian `libdnnl2`, through Deno FFI)
 * when present, else WebAssembly, else plain JavaScript; on WebGPU when a real adapter exists.
 *
 * @example Score an image with the detector shipped in `models/` (works when imported by URL)
 * ```ts
 * import { initBackend, loadDetector } from "./mod.ts";
 * await initBackend("auto");
 * const detector = await loadDetector(new URL("./models/cgbench-small/", import.meta.url));
 * const d = await detector.score(await Deno.readFile("dataset/POVRay/povray_00001.png"));
 * console.log(d.verdict, d.pCg.toFixed(3), d.score.toFixed(3));
 * ```
 *
 * @example Train an image map on the dataset shipped with the repository
 * ```ts
 * import { initBackend, trainMap } from "./mod.ts";
 * await initBackend("auto");
 * const run = await trainMap({ data: "dataset", renderer: "POVRay", epochs: 30, lr: 0.01 });
 * console.log(run.run, run.epochs.at(-1)?.val_acc);
 * ```
 *
 * @example Read an image as the toolkit sees it
 * ```ts
 * import { centerCrop, readImage } from "./mod.ts";
 * const img = centerCrop(await readImage("dataset/POVRay/povray_00001.png"), 233);
 * console.log(img.width, img.height); // 233 233
 * ```
 *
 * @module
 */

export {
  type BackendChoice,
  type BackendName,
  BACKENDS,
  initBackend,
} from "./lib/backends/select.ts";
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
} from "./lib/map/enet.ts";
export { SRM_KERNELS } from "./lib/map/srm.ts";
export {
  type Detection,
  Detector,
  detectorFromRun,
  type DetectorInfo,
  type ImageDataLike,
  loadDetector,
  type ScoreOptions,
  type TileScore,
  type Verdict,
  type VerdictRule,
} from "./lib/detect/detector.ts";
export {
  BiasFreeMlp,
  type FeatureMap,
  type FlowConfig,
  type MapParam,
  type MlpConfig,
  NiceFlow,
} from "./lib/oneclass/flow.ts";
export { fitStandardisation, OneClassModel, type Standardisation } from "./lib/oneclass/model.ts";
export {
  fractionInside,
  initCenter,
  quantile,
  radiusFor,
  scores,
  sqDistances,
  svddLoss,
} from "./lib/oneclass/svdd.ts";
export {
  bootstrap,
  eer,
  type MetricSet,
  metricSet,
  type Rates,
  rates,
  rocAuc,
  rocCurve,
  type RocPoint,
  tprAtFpr,
  type WithCi,
} from "./lib/eval/metrics.ts";
export {
  type CropMode,
  evaluate,
  type EvaluateOptions,
  type Evaluation,
  type ImageScore,
  type MetricName,
  METRICS,
  type RendererResult,
} from "./lib/eval/evaluate.ts";
export {
  experiment,
  type ExperimentOptions,
  type Matrix,
  type MatrixCell,
  pipeline,
  type PipelineOptions,
} from "./lib/eval/experiment.ts";
export {
  type FlowEpochMetrics,
  type FlowRunConfig,
  type FlowSummary,
  trainFlow,
  type TrainFlowOptions,
  type TrainFlowResult,
} from "./lib/oneclass/train.ts";
export { writeReport } from "./lib/eval/report.ts";
export { loadENet, saveENet } from "./lib/map/io.ts";
export type { Location } from "./lib/core/bundle.ts";
export { predict, type Prediction } from "./lib/map/predict.ts";
export {
  type EpochMetrics,
  type MapRunConfig,
  type Protocol,
  trainMap,
  type TrainMapOptions,
  type TrainMapResult,
  trainStep,
} from "./lib/map/train.ts";
export { Adam, type Optimizer, SgdMomentum } from "./lib/backends/optim.ts";
export type { NamedArray } from "./lib/core/bundle.ts";
export type { Progress } from "./lib/core/progress.ts";
export type { Sampler } from "./lib/data/sampler.ts";
export {
  type ClassInfo,
  type Dataset,
  type ImageEntry,
  loadDataset,
  type LoadDatasetOptions,
} from "./lib/data/dataset.ts";
export { type DatasetRow, parseDatasetCsv } from "./lib/data/csv.ts";
export { buildManifest, manifestCsv, type ManifestRow } from "./lib/data/manifest.ts";
export {
  applySplit,
  DEFAULT_FRACTIONS,
  makeSplit,
  type Role,
  type SplitEntry,
  type SplitFractions,
  splitFromLists,
} from "./lib/data/split.ts";
export {
  centerCrop,
  decodeImage,
  type DecodeOptions,
  DEFAULT_MAX_PIXELS,
  type ImageInfo,
  readImage,
  type RgbImage,
  sniffImage,
} from "./lib/data/image.ts";
export { ImageStore, type View } from "./lib/data/cache.ts";
export { type ChannelStats, channelStats, toBatch } from "./lib/data/batch.ts";
export {
  CgvsniError,
  DatasetError,
  ImageError,
  ModelError,
  NumericalError,
  UsageError,
} from "./lib/core/errors.ts";
