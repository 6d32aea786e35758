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

export { type BackendChoice, type BackendName, BACKENDS, initBackend } from "./lib/backend.ts";
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
} from "./lib/enet.ts";
export { SRM_KERNELS } from "./lib/srm.ts";
export { loadENet, saveENet } from "./lib/model_io.ts";
export { predict, type Prediction } from "./lib/predict.ts";
export {
  type EpochMetrics,
  type MapRunConfig,
  type Protocol,
  trainMap,
  type TrainMapOptions,
  type TrainMapResult,
  trainStep,
} from "./lib/train_map.ts";
export { Adam, type Optimizer, SgdMomentum } from "./lib/optim.ts";
export type { NamedArray } from "./lib/bundle.ts";
export type { Progress } from "./lib/progress.ts";
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
} from "./lib/errors.ts";
