/**
 * What every head on whole-image features shares (internal): {@link ThresholdedHead} (settings,
 * the threshold set out of fold on the photographs over folds of whole groups, the checks of a
 * fit's input, decisions, p(CG), verdicts), the standardisation and the logistic.
 * {@link LogisticHead} and {@link RbfSvmHead} differ only in the model fitted.
 *
 * @module
 */

import { ModelError, UsageError } from "../core/errors.ts";
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
interface Thresholded<M> {
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
function checkThresholdOptions(o: ThresholdOptions): void {
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
function fitWithThreshold<M>(
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

/** The settings a head takes: its model's C and its threshold's. */
export interface HeadSettings extends ThresholdOptions {
  /** The model's C. */
  c: number;
}

/**
 * What a head on whole-image features is apart from its model: the settings, the threshold and
 * its natural reference, the training counts and provenance, fitting with the out-of-fold
 * threshold, and the decision, p(CG) (its logistic) and verdict of rows. A model supplies how it
 * fits some rows (`fitRows`) and decides one row (`decide`); `what` names it in errors.
 */
export abstract class ThresholdedHead<F extends Standardiser> {
  /** The model's C. */
  readonly c: number;
  /** Share of the photographs above the threshold. */
  readonly nu: number;
  /** Folds of the threshold. */
  readonly folds: number;
  /** Seed of the folds. */
  readonly seed: number;
  /** p(CG) at or above which an image is called rendered (NaN before fitting). */
  threshold: number = NaN;
  /** The photographs' out-of-fold p(CG), ascending. */
  reference: number[] = [];
  /** Training images. */
  n: { natural: number; rendered: number } = { natural: 0, rendered: 0 };
  /** Whatever the trainer records. */
  provenance?: Record<string, unknown>;
  /** The fitted model (absent before fitting). */
  protected model?: F;

  /** An unfitted head: the settings given, else `defaults`, checked. */
  constructor(o: Partial<HeadSettings>, defaults: HeadSettings, protected readonly what: string) {
    this.c = o.c ?? defaults.c;
    this.nu = o.nu ?? defaults.nu;
    this.folds = o.folds ?? defaults.folds;
    this.seed = o.seed ?? defaults.seed;
    if (!(this.c > 0 && Number.isFinite(this.c))) throw new UsageError(`C must be > 0`);
    checkThresholdOptions(this);
  }

  /** The model fitted on some rows of `x` (rows of `dim`). */
  protected abstract fitRows(
    x: Float32Array,
    dim: number,
    rows: number[],
    y: ArrayLike<number>,
  ): F;

  /** The decision of the row of `x` starting at `at` (above 0: the render side). */
  protected abstract decide(m: F, x: Float32Array, at: number): number;

  /** Length of the vectors it reads (0 before fitting). */
  get dim(): number {
    return this.model?.mean.length ?? 0;
  }

  /**
   * Fits on `n` rows of `dim` features with labels `y` (0 photograph, 1 render), then sets the
   * threshold from the photographs' out-of-fold p(CG) over folds of whole `groups`.
   */
  fit(
    x: Float32Array,
    n: number,
    dim: number,
    y: ArrayLike<number>,
    groups: ArrayLike<number>,
  ): this {
    const t = fitWithThreshold(
      x,
      n,
      dim,
      y,
      groups,
      this,
      (rows) => this.fitRows(x, dim, rows, y),
      (m, at) => logistic(this.decide(m, x, at)),
    );
    this.model = t.model;
    this.reference = t.reference;
    this.threshold = t.threshold;
    this.n = t.n;
    return this;
  }

  /** The decision of each of `n` rows (above 0: the render side). */
  decisionFunction(x: Float32Array, n: number): Float64Array {
    const m = this.fitted(x, n), d = m.mean.length;
    return Float64Array.from({ length: n }, (_, i) => this.decide(m, x, i * d));
  }

  /** p(CG) of each of `n` rows: the logistic of the decision. */
  pCg(x: Float32Array, n: number): Float64Array {
    return this.decisionFunction(x, n).map(logistic);
  }

  /** 1 (rendered) where p(CG) reaches the threshold, else 0. */
  predict(x: Float32Array, n: number): Uint8Array {
    return Uint8Array.from(this.pCg(x, n), (p) => p >= this.threshold ? 1 : 0);
  }

  /** The fitted model; refused before fitting or for vectors of another length. */
  protected fitted(x?: Float32Array, n?: number): F {
    const m = this.model;
    if (!m) throw new ModelError(`the ${this.what} is not fitted`);
    if (x && x.length !== n! * m.mean.length) {
      throw new ModelError(
        `the ${this.what} reads ${m.mean.length}-d vectors, got ${x.length / n!}`,
      );
    }
    return m;
  }

  /** A saved head's threshold, reference, counts and provenance, taken as they are. */
  protected restore(
    s: Pick<ThresholdedHead<F>, "threshold" | "reference" | "n" | "provenance">,
    model: F,
  ): this {
    this.model = model;
    this.threshold = s.threshold;
    this.reference = [...s.reference];
    this.n = s.n;
    this.provenance = s.provenance;
    return this;
  }
}
