/**
 * What every head on whole-image features shares (internal): the checks of a fit's input, the
 * standardisation, the logistic, and the threshold set out of fold on the photographs over folds
 * of whole groups. {@link LogisticHead} and {@link RbfSvmHead} differ only in the model fitted.
 *
 * @module
 */

import { UsageError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { quantile } from "../core/stats.ts";

/** Column means and scales of scikit-learn's `StandardScaler` on some rows. */
export interface Standardiser {
  /** Column means. */
  mean: Float64Array;
  /** Column population standard deviations (1 for a column constant up to rounding). */
  scale: Float64Array;
}

/** The standardisation of `rows` of `x` (rows of `dim`). */
export function standardiser(x: Float32Array, dim: number, rows: number[]): Standardiser {
  const n = rows.length, mean = new Float64Array(dim), scale = new Float64Array(dim);
  for (const i of rows) for (let j = 0; j < dim; j++) mean[j] += x[i * dim + j] / n;
  for (const i of rows) {
    for (let j = 0; j < dim; j++) scale[j] += (x[i * dim + j] - mean[j]) ** 2 / n;
  }
  // a constant column (its spread no more than rounding of its mean) is left unscaled
  for (let j = 0; j < dim; j++) {
    const sd = Math.sqrt(scale[j]);
    scale[j] = sd > 1e-10 * Math.max(1, Math.abs(mean[j])) ? sd : 1;
  }
  return { mean, scale };
}

/** The logistic function, without overflow. */
export function logistic(t: number): number {
  return t >= 0 ? 1 / (1 + Math.exp(-t)) : Math.exp(t) / (1 + Math.exp(t));
}

/** Settings of the out-of-fold threshold. */
export interface ThresholdOptions {
  /** Share of the photographs above the threshold. */
  nu: number;
  /** Folds (at most one a group). */
  folds: number;
  /** Seed of the folds. */
  seed: number;
}

/** A fitted model with its natural threshold. */
export interface Thresholded<M> {
  /** The model fitted on every row. */
  model: M;
  /** The photographs' out-of-fold p(CG), ascending. */
  reference: number[];
  /** Its (1 − ν) quantile. */
  threshold: number;
  /** Training images by class. */
  n: { natural: number; rendered: number };
}

/** The settings' checks every head makes in its constructor. */
export function checkThresholdOptions(o: ThresholdOptions): void {
  if (!(o.nu > 0 && o.nu < 1)) throw new UsageError(`nu must be in (0, 1)`);
  if (!(Number.isInteger(o.folds) && o.folds >= 2)) {
    throw new UsageError(`folds must be an integer of at least 2`);
  }
}

/**
 * Fits a model on `n` rows of `dim` features with labels `y` (0 photograph, 1 render) and sets
 * its threshold: the (1 − ν) quantile of the photographs' p(CG) out of fold, over folds of whole
 * `groups` (the sorted group ids shuffled by `head-folds:<seed>` and dealt round robin; a fold
 * with one class in its fitting rows scores nothing). `fitOn` fits on some rows; `pCg` scores the
 * row starting at an offset of `x`.
 */
export function fitWithThreshold<M>(
  x: Float32Array,
  n: number,
  dim: number,
  y: ArrayLike<number>,
  groups: ArrayLike<number>,
  o: ThresholdOptions,
  fitOn: (rows: number[]) => M,
  pCg: (model: M, at: number) => number,
): Thresholded<M> {
  if (x.length !== n * dim || y.length !== n || groups.length !== n) {
    throw new UsageError(`fit: ${n} rows of ${dim} need as many labels and groups`);
  }
  const all = Array.from({ length: n }, (_, i) => i);
  const natural = all.filter((i) => y[i] === 0), rendered = all.filter((i) => y[i] === 1);
  if (natural.length + rendered.length !== n) throw new UsageError("labels must be 0 or 1");
  if (!natural.length || !rendered.length) {
    throw new UsageError(
      `fit: needs photographs and renders (${natural.length} and ${rendered.length})`,
    );
  }
  const ids = [...new Set(Array.from(groups))].sort((a, b) => a - b);
  const folds = Math.min(o.folds, ids.length);
  if (folds < 2) throw new UsageError("the out-of-fold threshold needs at least 2 groups");
  const order = new Rng(`head-folds:${o.seed}`).shuffle([...ids]);
  const foldOf = new Map(order.map((g, i) => [g, i % folds]));
  const oof: number[] = [];
  for (let f = 0; f < folds; f++) {
    const fitRows = all.filter((i) => foldOf.get(groups[i]) !== f);
    const held = natural.filter((i) => foldOf.get(groups[i]) === f);
    if (!held.length) continue;
    const labels = fitRows.map((i) => y[i]);
    if (!labels.includes(0) || !labels.includes(1)) continue; // a fold of one class: no model
    const m = fitOn(fitRows);
    for (const i of held) oof.push(pCg(m, i * dim));
  }
  if (!oof.length) throw new UsageError("no fold could score a photograph out of fold");
  const reference = oof.sort((a, b) => a - b);
  return {
    model: fitOn(all),
    reference,
    threshold: quantile(reference, 1 - o.nu),
    n: { natural: natural.length, rendered: rendered.length },
  };
}
