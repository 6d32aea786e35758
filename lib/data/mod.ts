/**
 * Stage 1, data: datasets (`dataset.csv`), decoding images, splits, the crop cache, batches, and
 * the perturbations used to remove compression shortcuts, augment and test robustness.
 *
 * @module
 */

export {
  type ClassInfo,
  type Dataset,
  DEFAULT_DATA,
  type ImageEntry,
  loadDataset,
  type LoadDatasetOptions,
} from "./dataset.ts";
export { type DatasetRow, parseDatasetCsv } from "./csv.ts";
export { buildManifest, manifestCsv, type ManifestRow } from "./manifest.ts";
export {
  buildNaturalCorpus,
  type CorpusOptions,
  type CorpusResult,
  type CorpusRow,
  type CorpusSource,
} from "./corpus.ts";
export {
  applySplit,
  DEFAULT_FRACTIONS,
  makeSplit,
  type Role,
  roleNamed,
  ROLES,
  type SplitEntry,
  type SplitFractions,
  splitFromLists,
} from "./split.ts";
export { centerCrop, type RgbImage } from "./image.ts";
export { fileFingerprint, fileFingerprints } from "./fingerprint.ts";
export {
  activeDecoder,
  decodeImage,
  type DecodeOptions,
  decoderInfo,
  decoderMismatch,
  type DecoderName,
  type DecoderRecord,
  DECODERS,
  DEFAULT_MAX_PIXELS,
  type ImageFormat,
  type ImageInfo,
  PIXELS,
  readImage,
  setDecoder,
  sniffImage,
} from "./decode.ts";
export { ImageStore, type ImageStoreOptions, type View } from "./cache.ts";
export { type ChannelStats, channelStats, toBatch } from "./batch.ts";
export {
  addNoise,
  checkPerturbation,
  fitShortSide,
  gaussianBlur,
  jpegRoundTrip,
  parsePerturbation,
  perturb,
  type Perturbation,
  resize,
  type Step,
  webpRoundTrip,
} from "./perturb.ts";
export { type Augmentation, AUGMENTATIONS, augmentedCrop, parseAugment } from "./augment.ts";
export type { Sampler } from "./sampler.ts";
