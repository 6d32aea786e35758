/**
 * Stage 5, detection: the detector (image map + one-class model + feature source + thresholds),
 * the one value every later step uses: it scores image files or pixels, and turns what the two
 * stages give into per-image scores and verdicts for every consumer; loadable from a folder or a
 * URL; heatmaps of its tiles.
 *
 * @module
 */

export {
  checkUnsureShare,
  DEFAULT_MAX_TILES,
  DEFAULT_UNSURE,
  DEFAULT_UNSURE_P,
  type Detection,
  Detector,
  DETECTOR_FORMAT,
  detectorFromRun,
  type DetectorInfo,
  detectorWithHead,
  detectorWithLinearHead,
  fusedScore,
  type ImageDataLike,
  type Judgement,
  type LinearHeadInfo,
  loadDetector,
  type ScoreOptions,
  type StageOutputs,
  type TileScore,
  type Verdict,
  VERDICT_RULES,
  type VerdictRule,
} from "./detector.ts";
export { heatmapPng, type HeatmapValue } from "./heatmap.ts";
export {
  calibrate,
  type CalibrateOptions,
  CALIBRATION_MODES,
  type CalibrationMode,
  type CalibrationRecord,
  MIN_CALIBRATION_IMAGES,
} from "./calibrate.ts";
