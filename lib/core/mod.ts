/**
 * What every stage shares: the toolkit's error types, seeded random numbers, progress
 * reporting and named-array files.
 *
 * @module
 */

export {
  CgvsniError,
  DatasetError,
  ImageError,
  ModelError,
  NumericalError,
  Preempted,
  PREEMPTED_EXIT,
  UsageError,
} from "./errors.ts";
export { Rng } from "./rng.ts";
export type { Tensor, Tensor1D, Tensor2D, Tensor4D, Variable } from "./deps.ts";
export { makeProgress, type Progress } from "./progress.ts";
export { type Location, type NamedArray } from "./bundle.ts";
export {
  DEFAULT_NU,
  fisherQuantile,
  fisherScore,
  mean,
  meanPerImage,
  quantile,
  upperTail,
  weightedQuantile,
} from "./stats.ts";
