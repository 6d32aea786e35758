/**
 * Stage 6, detection: a detector (image map + one-class model + feature source) that scores
 * image files or pixels, loadable from a folder or a URL; its evaluation on a labelled dataset
 * folder (`evaluate --detector`); heatmaps of its tiles.
 *
 * @module
 */

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
  VERDICT_RULES,
  type VerdictRule,
} from "./detector.ts";
export { heatmapPng, type HeatmapValue } from "./heatmap.ts";
export {
  detectorEvaluationDir,
  evaluateDetector,
  type EvaluateDetectorOptions,
} from "./evaluate.ts";
