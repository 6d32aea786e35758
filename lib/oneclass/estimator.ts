/**
 * What every one-class model is, in the manner of scikit-learn and PyOD: an estimator fitted on
 * the feature vectors of natural images only, that scores any vector.
 *
 * - settings (seed and threshold mode included) go in the constructor; `fit(x, n, d)`
 *   normalises (normalise.ts), fits and sets the decision threshold;
 * - `scoreSamples(x, n)`: raw outlyingness; `decisionFunction(x, n)`: raw minus the threshold,
 *   so **> 0 means outside the natural class, i.e. computer-generated**; `predict`: 1 where > 0;
 * - `partScores` / `checkScores`: a model in parts (the Gaussian) explains a decision part by
 *   part; a check part never scores, but a vector failing it is never called natural;
 * - `save(dir)` / `loadOneClass(dir)`: everything needed to score, checked on loading.
 *
 * **The threshold** is the (1 − ν) quantile (ν = 0.05 by default) of raw scores of *natural*
 * vectors only, never of test labels (per image, the mean over its vectors, when `groups` says
 * which vectors are crops of one image):
 *
 * - `train`: of the training vectors' own scores (for k-NN, each vector's distance to the
 *   others; for the SVDD models this is R², as the method defines it, and their default);
 * - `cv` (the others' default): of out-of-fold scores, the folds keeping an image whole. In-sample
 *   scores are optimistic (a Gaussian on 120 vectors of dimension 1184 sees its own vectors as
 *   central); out-of-fold scores behave like new images;
 * - `val`: of a separate set of natural validation vectors.
 *
 * @module
 */

import { at, loadBundle, type Location, type NamedArray, readManifest } from "../core/bundle.ts";
import { saveBundle } from "../core/bundle.ts";
import { ModelError, UsageError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { DEFAULT_NU, quantile, upperTail, weightedQuantile } from "../core/stats.ts";
import { type FeatureNorm, Normaliser } from "./normalise.ts";

/** File stem of a saved one-class model (`oneclass.json`, `oneclass.bin`). */
export const ONECLASS_STEM = "oneclass";

/** Format tag of saved one-class models. */
export const ONECLASS_FORMAT = "cgvsni-oneclass/2";

/** The kinds of one-class model. */
export const ONECLASS_KINDS = ["flow", "mlp", "gauss", "knn", "gmm"] as const;

/** A kind of one-class model (`--oneclass`). */
export type OneClassKind = typeof ONECLASS_KINDS[number];

/** The default one-class model: the method's Flow-SVDD. */
export const DEFAULT_KIND: OneClassKind = "flow";

/** How the decision threshold is set (see the module documentation). */
export type ThresholdFrom = "train" | "cv" | "val";

export { DEFAULT_NU };

/** Folds of the `cv` threshold (5). */
export const DEFAULT_FOLDS = 5;

/** The threshold mode of a new estimator. */
export const DEFAULT_THRESHOLD: ThresholdFrom = "cv";

/** The threshold modes. */
export const THRESHOLD_MODES: readonly ThresholdFrom[] = ["train", "cv", "val"];

/** Settings every estimator takes. */
export interface EstimatorOptions {
  /** ν in (0, 1) (default {@link DEFAULT_NU}). */
  nu?: number;
  /** Feature normalisation (default `standardise`). */
  norm?: FeatureNorm;
  /** How the threshold is set (default {@link DEFAULT_THRESHOLD}). */
  threshold?: ThresholdFrom;
  /** Folds of the `cv` threshold (default {@link DEFAULT_FOLDS}). */
  folds?: number;
  /** Seed of training and of the folds (default 0). */
  seed?: number;
}

/** What produced the feature vectors a model was fitted on, saved with it. */
export interface FeatureProvenance {
  /** Feature source (`l9`, `residual`, ...). */
  source: string;
  /** SHA-256 of the image map's weights, for map-based sources. */
  map?: string;
  /** JPEG quality every image was re-encoded at first, if any. */
  matchCompression?: number;
  /** Anything else that defines the features (e.g. the residual's parameters). */
  [extra: string]: unknown;
}

/** A model being trained epoch by epoch, as an {@link EpochDriver} sees it. */
export interface EpochTrainer {
  /** The last epoch. */
  epochs: number;
  /** Trains epoch `e` (1-based); `guard` is called on values that must stay finite. */
  epoch(e: number, guard: (v: number, what: string) => void): Promise<Record<string, number>>;
  /** Writes the model and optimiser state into a folder. */
  state(dir: string): Promise<void>;
  /** Restores them from such a folder. */
  restore(dir: string): Promise<void>;
}

/**
 * Runs a model's training epochs; returns false when it stopped before the last (then `fit`
 * sets no threshold). The training stage passes one that checkpoints and resumes
 * (lib/runs/loop.ts); by default every epoch runs once, in order.
 */
export type EpochDriver = (t: EpochTrainer) => Promise<boolean>;

/** Data-dependent options of `fit` (the settings are the constructor's). */
export interface FitOptions {
  /** Natural validation vectors, for `threshold: "val"`. */
  validation?: { x: Float32Array; n: number };
  /**
   * Which image each row comes from. `cv` keeps an image's rows in one fold, and the threshold
   * is then the quantile of per-image scores (the mean over an image's rows), since images,
   * not crops, are what gets decided.
   */
  groups?: ArrayLike<number>;
  /**
   * Rows that stay in one fold of the `cv` threshold (default: `groups`): a photograph source,
   * say, so that each row's out-of-fold score comes from a model that never saw its source.
   */
  foldGroups?: ArrayLike<number>;
  /**
   * How much each row counts in the fit (each photograph weighted by one over its source's count,
   * say, so that every source counts alike): positive, any scale. Only a model whose fit can weigh
   * its rows takes them ({@link OneClassEstimator.weighsRows}); the others refuse them.
   */
  weights?: ArrayLike<number>;
  /**
   * How much each row counts in the threshold: its quantile is then {@link weightedQuantile} of
   * the natural scores (per image, the mean of its rows' weights). The reference kept for p-values
   * stays the scores themselves, unweighted. Not with `threshold: "val"`.
   */
  thresholdWeights?: ArrayLike<number>;
  /** Called after each epoch by the models trained in epochs. */
  onEpoch?: (m: Record<string, number>) => void;
  /** Runs the epochs of the models trained in epochs (see {@link EpochDriver}). */
  epochs?: EpochDriver;
}

/**
 * A one-class estimator (see the module documentation).
 *
 * @example Every model: fit, score (> 0 = CG), predict, save, load
 * ```ts
 * import { GaussianOneClass, loadOneClass, type OneClassEstimator } from "./mod.ts";
 * const x = Float32Array.from({ length: 100 * 3 }, (_, i) => Math.sin(i * 7.1));
 * const m: OneClassEstimator = await new GaussianOneClass().fit(x, 100, 3);
 * const dir = await Deno.makeTempDir();
 * await m.save(dir);
 * const back = await loadOneClass(dir);
 * console.log(back.kind, back.threshold === m.threshold, await back.predict(new Float32Array([40, 40, 40]), 1)); // gauss true [1]
 * ```
 */
export abstract class OneClassEstimator {
  /** The kind of model. */
  abstract readonly kind: OneClassKind;
  /** ν. */
  readonly nu: number;
  /** Feature normalisation. */
  readonly norm: FeatureNorm;
  /** Dimension of the vectors (set by fit). */
  dim: number = 0;
  /** Raw scores above this are outside the natural class. */
  threshold: number = NaN;
  /** How the threshold is set by `fit` (a setting). */
  readonly thresholdMode: ThresholdFrom;
  /** Folds of the `cv` threshold. */
  readonly folds: number;
  /** Seed of training and of the folds. */
  readonly seed: number;
  /** How the threshold was set (a loaded model: as it was fitted). */
  thresholdFrom: ThresholdFrom = "train";
  /** Names of the parts that check but do not score (none but in a Gaussian in parts). */
  readonly checks: readonly string[] = [];
  /** Whether the fit takes {@link FitOptions.weights} (the Gaussian's does). */
  readonly weighsRows: boolean = false;
  /**
   * The natural images' raw scores the threshold is the (1 − ν) quantile of, ascending (one per
   * image: out-of-fold for `cv`). Saved, so that a score can be read as an upper-tail p-value
   * among natural images (the detector's fused score); absent in models saved before it.
   */
  reference?: Float32Array;
  /** What produced the features (set by whoever fits it; saved). */
  provenance?: FeatureProvenance;
  /** The fitted normalisation. */
  protected normaliser?: Normaliser;

  /** An unfitted estimator. */
  constructor(o: EstimatorOptions = {}) {
    this.nu = o.nu ?? DEFAULT_NU;
    if (!(this.nu > 0 && this.nu < 1)) throw new UsageError(`nu must be in (0, 1), got ${this.nu}`);
    this.norm = o.norm ?? "standardise";
    this.thresholdMode = o.threshold ?? DEFAULT_THRESHOLD;
    if (!THRESHOLD_MODES.includes(this.thresholdMode)) {
      throw new UsageError(
        `threshold must be ${THRESHOLD_MODES.join(", ")}, got "${this.thresholdMode}"`,
      );
    }
    this.folds = o.folds ?? DEFAULT_FOLDS;
    if (!(Number.isInteger(this.folds) && this.folds >= 2)) {
      throw new UsageError(`folds must be an integer of at least 2, got ${this.folds}`);
    }
    this.seed = o.seed ?? 0;
  }

  /** The shared settings, for a kind's `clone`. */
  protected get common(): EstimatorOptions {
    return {
      nu: this.nu,
      norm: this.norm,
      threshold: this.thresholdMode,
      folds: this.folds,
      seed: this.seed,
    };
  }

  /**
   * An unfitted copy with the same settings: each fold of a cross-validated threshold, and a
   * model refitted with more photographs (`calibrate`).
   */
  abstract clone(): OneClassEstimator;
  /** Fits on normalised vectors; false when the epochs stopped early (see {@link EpochDriver}). */
  protected abstract fitNormalised(
    z: Float32Array,
    n: number,
    opts: FitOptions,
  ): Promise<void | boolean>;
  /** Raw outlyingness of normalised vectors (larger: farther from the natural class). */
  protected abstract rawNormalised(
    z: Float32Array,
    n: number,
  ): Float32Array | Promise<Float32Array>;
  /** Raw scores of the training vectors themselves (see `threshold: "train"`). */
  protected abstract trainingScores(): Float32Array;
  /** The fitted parameters, as named arrays. */
  protected abstract arrays(): NamedArray[] | Promise<NamedArray[]>;
  /** The settings and scalars saved in the manifest. */
  protected abstract meta(): Record<string, unknown>;
  /** Frees tensors, if any. */
  abstract dispose(): void;

  /**
   * Fits on `n` natural vectors of dimension `d` (row-major) and sets the threshold, as the
   * constructor's `threshold` says (not when `opts.epochs` stopped early: see {@link finished}).
   */
  async fit(x: Float32Array, n: number, d: number, opts: FitOptions = {}): Promise<this> {
    checkWeights(opts.weights, n, "weights");
    checkWeights(opts.thresholdWeights, n, "thresholdWeights");
    if (opts.weights && !this.weighsRows) {
      throw new UsageError(`a ${this.kind} one-class model cannot weigh its rows in the fit`);
    }
    this.finished = (await this.fitNormalised(this.begin(x, n, d), n, opts)) !== false;
    if (this.finished) await this.setThreshold(x, n, d, opts);
    return this;
  }

  /** False after a `fit` whose epochs stopped early: no threshold is set then. */
  finished = true;

  /** Checks the shape, fits the normalisation and returns the normalised vectors. */
  protected begin(x: Float32Array, n: number, d: number): Float32Array {
    if (x.length !== n * d) throw new RangeError(`expected ${n} x ${d} values, got ${x.length}`);
    if (n < 2) throw new RangeError(`a one-class model needs at least 2 vectors, got ${n}`);
    this.dim = d;
    this.normaliser = Normaliser.fit(this.norm, x, n, d);
    return this.normaliser.apply(x, n);
  }

  /**
   * Sets the threshold of a fitted model from its training vectors `x` (or the validation
   * vectors) as the constructor's `threshold` says; `fit` calls it last.
   */
  async setThreshold(x: Float32Array, n: number, d: number, opts: FitOptions = {}): Promise<void> {
    const from = this.thresholdMode;
    const w = opts.thresholdWeights;
    if (from === "val") {
      if (!opts.validation) throw new UsageError("threshold val needs validation vectors");
      if (w) throw new UsageError("threshold val takes no threshold weights");
      await this.calibrate(opts.validation.x, opts.validation.n);
    } else {
      const scores = from === "cv" ? await this.outOfFold(x, n, d, opts) : this.trainingScores();
      this.#thresholdFrom(
        groupMeans(scores, opts.groups),
        from,
        w && groupMeans(Float32Array.from(w), opts.groups),
      );
    }
  }

  /**
   * The threshold as the (1 − ν) quantile of natural raw scores (weighted by `weights` when
   * given), which are kept as reference.
   */
  #thresholdFrom(natural: ArrayLike<number>, from: ThresholdFrom, weights?: ArrayLike<number>) {
    this.reference = Float32Array.from(natural).sort();
    this.threshold = weights
      ? weightedQuantile(natural, weights, 1 - this.nu)
      : quantile(natural, 1 - this.nu);
    this.thresholdFrom = from;
  }

  /** Out-of-fold raw scores of the training vectors (see `threshold: "cv"`). */
  async outOfFold(x: Float32Array, n: number, d: number, opts: FitOptions): Promise<Float32Array> {
    const groups = opts.foldGroups ?? opts.groups ?? Array.from({ length: n }, (_, i) => i);
    const ids = [...new Set(Array.from(groups))].sort((a, b) => a - b);
    const folds = Math.min(this.folds, ids.length);
    if (folds < 2) throw new RangeError("cross-validated thresholds need at least 2 groups");
    const order = new Rng(`oneclass-folds:${this.seed}`).shuffle([...ids]);
    const foldOf = new Map(order.map((g, i) => [g, i % folds]));
    const out = new Float32Array(n);
    for (let f = 0; f < folds; f++) {
      const fitRows: number[] = [], holdRows: number[] = [];
      for (let i = 0; i < n; i++) (foldOf.get(groups[i]) === f ? holdRows : fitRows).push(i);
      const est = this.clone();
      try {
        const m = fitRows.length;
        // the fold's own rows: a model fitted in parts folds again inside (its parts' scales),
        // by the fold groups while the fold holds two of them, else by the groups (images)
        const mine = (g?: ArrayLike<number>) => g && fitRows.map((r) => g[r]);
        const inner = mine(opts.foldGroups);
        await est.fitNormalised(est.begin(rows(x, d, fitRows), m, d), m, {
          ...opts,
          weights: mine(opts.weights),
          thresholdWeights: mine(opts.thresholdWeights),
          groups: mine(opts.groups),
          foldGroups: inner && new Set(inner).size >= 2 ? inner : undefined,
          epochs: undefined,
        });
        const s = await est.scoreSamples(rows(x, d, holdRows), holdRows.length);
        holdRows.forEach((r, k) => out[r] = s[k]);
      } finally {
        est.dispose();
      }
    }
    return out;
  }

  /** Sets the threshold from natural validation vectors (their (1 − ν) quantile). */
  async calibrate(x: Float32Array, n: number): Promise<void> {
    this.#thresholdFrom(await this.scoreSamples(x, n), "val");
  }

  /** Raw outlyingness of `n` vectors (larger: farther from the natural class). */
  async scoreSamples(x: Float32Array, n: number): Promise<Float32Array> {
    if (!this.normaliser) throw new ModelError("the one-class model is not fitted");
    return await this.rawNormalised(this.normaliser.apply(x, n), n);
  }

  /** The decision function of `n` vectors: raw − threshold; above 0 means computer-generated. */
  async decisionFunction(x: Float32Array, n: number): Promise<Float32Array> {
    return (await this.scoreSamples(x, n)).map((v) => v - this.threshold);
  }

  /**
   * Each part's decision function of `n` vectors, by name, for a model in parts (a Gaussian's
   * `texture` and `slope`); above 0, that part alone puts a vector outside, or, for a check
   * part, the vector fails the check. Empty for a model in one piece.
   */
  partScores(_x: Float32Array, _n: number): Record<string, Float32Array> {
    return {};
  }

  /**
   * The largest check-part score of each of `n` vectors (above 0: the vector fails a check, and
   * is never called natural), or undefined when the model has no checks.
   */
  checkScores(_x: Float32Array, _n: number): Float32Array | undefined {
    return undefined;
  }

  /**
   * A score (raw − threshold, as {@link OneClassEstimator.decisionFunction} gives it) as an upper-tail
   * p-value among the natural reference scores; undefined without a reference.
   */
  naturalTail(score: number): number | undefined {
    return this.reference?.length ? upperTail(this.reference, score + this.threshold) : undefined;
  }

  /** 1 (computer-generated) where the decision function is above 0, else 0. */
  async predict(x: Float32Array, n: number): Promise<Uint8Array> {
    return Uint8Array.from(await this.decisionFunction(x, n), (s) => (s > 0 ? 1 : 0));
  }

  /** Writes `<dir>/<stem>.json` and `.bin`; `extra` goes into the manifest. */
  async save(
    dir: string,
    stem = ONECLASS_STEM,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    if (!this.normaliser) throw new ModelError("the one-class model is not fitted");
    const arrays = [...this.normaliser.arrays(), ...(await this.arrays())];
    await saveBundle(dir, stem, ONECLASS_FORMAT, arrays, {
      ...extra,
      kind: this.kind,
      dim: this.dim,
      nu: this.nu,
      norm: this.norm,
      threshold: this.threshold,
      thresholdFrom: this.thresholdFrom,
      // how a refit (clone) sets its threshold, and with which folds and seed
      fit: (({ threshold, folds, seed }) => ({ threshold, folds, seed }))(this.common),
      ...(this.reference ? { reference: Array.from(this.reference) } : {}),
      provenance: this.provenance,
      settings: this.meta(),
    });
  }

  /** Restores the shared part of a saved model (called by each kind's `restore`). */
  protected restoreCommon(saved: SavedModel): void {
    this.dim = saved.dim;
    this.threshold = saved.threshold;
    this.thresholdFrom = saved.thresholdFrom;
    this.reference = saved.reference ? Float32Array.from(saved.reference) : undefined;
    this.provenance = saved.provenance;
    this.normaliser = Normaliser.restore(this.norm, saved.dim, saved.arrays);
  }
}

/**
 * The shared settings of a saved model, for its kind's `restore`: ν, the normalisation, and how
 * a refit of it sets its threshold (a file from before they were saved: as its threshold was set,
 * with the default folds and seed).
 */
export function savedCommon(saved: SavedModel): EstimatorOptions {
  const fit = saved.manifest.fit as
    | { threshold?: ThresholdFrom; folds?: number; seed?: number }
    | undefined;
  const o: EstimatorOptions = {
    nu: saved.nu,
    norm: saved.norm,
    threshold: fit?.threshold ?? saved.thresholdFrom,
  };
  if (fit?.folds !== undefined) o.folds = fit.folds;
  if (fit?.seed !== undefined) o.seed = fit.seed;
  return o;
}

/** A saved one-class model as read from disk, before its kind rebuilds it. */
export interface SavedModel {
  /** Where it was read from (for messages). */
  where: string;
  /** Its kind. */
  kind: OneClassKind;
  /** Vector dimension. */
  dim: number;
  /** ν. */
  nu: number;
  /** Normalisation. */
  norm: FeatureNorm;
  /** Threshold and how it was set. */
  threshold: number;
  /** How the threshold was set. */
  thresholdFrom: ThresholdFrom;
  /** The natural raw scores the threshold is the quantile of, when saved. */
  reference?: number[];
  /** What produced the features. */
  provenance?: FeatureProvenance;
  /** The kind's settings. */
  settings: Record<string, unknown>;
  /** Every array, by name. */
  arrays: Map<string, NamedArray>;
  /** The whole manifest (for extra fields). */
  manifest: Record<string, unknown>;
}

/**
 * Reads a saved model's manifest and arrays, checking format, scalars, sizes and the checksum;
 * `shapes(settings, dim)` gives the arrays its kind needs, each checked.
 */
export async function readSaved(
  dir: Location,
  stem: string,
  shapes: (
    kind: OneClassKind,
    settings: Record<string, unknown>,
    dim: number,
  ) => [string, number[]][],
): Promise<SavedModel> {
  const where = at(dir, `${stem}.json`);
  const head = await readManifest(dir, stem);
  if (head.format === "cgvsni-oneclass/1") return await readVersion1(dir, stem, head, shapes);
  if (head.format !== ONECLASS_FORMAT) {
    throw new ModelError(
      `${where}: format is "${head.format}", expected "${ONECLASS_FORMAT}" (retrain the one-class model)`,
    );
  }
  const kind = head.kind as OneClassKind, dim = head.dim as number, nu = head.nu as number;
  const norm = head.norm as FeatureNorm, threshold = head.threshold as number;
  const settings = (head.settings ?? {}) as Record<string, unknown>;
  const reference = head.reference as number[] | undefined;
  if (
    !ONECLASS_KINDS.includes(kind) || !Number.isInteger(dim) || dim < 1 || !(nu > 0 && nu < 1) ||
    !Number.isFinite(threshold) || !["standardise", "l2", "none"].includes(norm) ||
    typeof settings !== "object" ||
    (reference !== undefined &&
      !(Array.isArray(reference) && reference.length > 0 && reference.every(Number.isFinite)))
  ) throw new ModelError(`${where}: not a valid one-class model`);
  let need: [string, number[]][];
  try {
    need = [...Normaliser.shapes(norm, dim), ...shapes(kind, settings, dim)];
  } catch (e) {
    throw new ModelError(`${where}: ${(e as Error).message}`);
  }
  const { arrays, manifest } = await loadBundle(dir, stem, {
    format: ONECLASS_FORMAT,
    shapes: new Map(need),
  });
  return {
    where,
    kind,
    dim,
    nu,
    norm,
    threshold,
    thresholdFrom: (head.thresholdFrom as ThresholdFrom) ?? "train",
    reference,
    provenance: head.provenance as FeatureProvenance | undefined,
    settings,
    arrays,
    manifest,
  };
}

/**
 * A model saved by cgvsni 0.1 (a flow or the MLP with its radius and standardisation), read as
 * the same model of this version: the threshold is R², as it scored then.
 */
async function readVersion1(
  dir: Location,
  stem: string,
  head: Record<string, unknown>,
  shapes: (
    kind: OneClassKind,
    settings: Record<string, unknown>,
    dim: number,
  ) => [string, number[]][],
): Promise<SavedModel> {
  const where = at(dir, `${stem}.json`);
  const map = head.map as { kind: OneClassKind; dim: number } | undefined;
  const radius = head.radius as number, nu = head.nu as number;
  if (
    !map || !["flow", "mlp"].includes(map.kind) || !Number.isFinite(radius) || !(nu > 0 && nu < 1)
  ) {
    throw new ModelError(`${where}: not a valid one-class model`);
  }
  const settings = { map, radius, k: head.k };
  const norm: FeatureNorm = head.standardised ? "standardise" : "none";
  const need = new Map<string, number[]>(shapes(map.kind, settings, map.dim));
  if (head.standardised) {
    need.set("standardise/mean", [map.dim]);
    need.set("standardise/std", [map.dim]);
  }
  const { arrays, manifest } = await loadBundle(dir, stem, {
    format: "cgvsni-oneclass/1",
    shapes: need,
  });
  for (const k of ["mean", "std"]) {
    const a = arrays.get(`standardise/${k}`);
    if (a) arrays.set(`normalise/${k}`, { ...a, name: `normalise/${k}` });
  }
  const mapRun = head.mapRun as { model?: string } | undefined;
  return {
    where,
    kind: map.kind,
    dim: map.dim,
    nu,
    norm,
    threshold: radius * radius,
    thresholdFrom: "train",
    provenance: { source: "l9", ...(mapRun?.model ? { map: mapRun.model } : {}) },
    settings,
    arrays,
    manifest,
  };
}

/** Scores averaged per group (in order of first appearance); the scores as they are without groups. */
export function groupMeans(scores: Float32Array, groups?: ArrayLike<number>): Float32Array {
  if (!groups) return scores;
  const sum = new Map<number, [number, number]>();
  for (let i = 0; i < scores.length; i++) {
    const s = sum.get(groups[i]) ?? [0, 0];
    sum.set(groups[i], [s[0] + scores[i], s[1] + 1]);
  }
  return Float32Array.from([...sum.values()], ([a, k]) => a / k);
}

/** Refuses weights that are not one positive, finite number per row. */
function checkWeights(w: ArrayLike<number> | undefined, n: number, what: string): void {
  if (!w) return;
  if (w.length !== n) throw new RangeError(`${what}: expected ${n}, got ${w.length}`);
  for (let i = 0; i < n; i++) {
    if (!(w[i] > 0 && Number.isFinite(w[i]))) {
      throw new RangeError(`${what} must be positive and finite, got ${w[i]} at row ${i}`);
    }
  }
}

/** The rows `idx` of a row-major matrix with `d` columns. */
export function rows(x: Float32Array, d: number, idx: number[]): Float32Array {
  const out = new Float32Array(idx.length * d);
  idx.forEach((r, k) => out.set(x.subarray(r * d, (r + 1) * d), k * d));
  return out;
}

/** Loads a saved model, checking that it is of `kind`: what each class's `load` does. */
export async function loadAs<T>(
  dir: Location,
  stem: string,
  kind: OneClassKind,
  shapes: (settings: Record<string, unknown>, dim: number) => [string, number[]][],
  restore: (saved: SavedModel) => T,
): Promise<T> {
  const saved = await readSaved(dir, stem, (_k, s, d) => shapes(s, d));
  if (saved.kind !== kind) {
    throw new ModelError(`${saved.where}: a ${saved.kind} model, not ${kind}`);
  }
  return restore(saved);
}

/** Checks a `--oneclass` value. */
export function checkKind(v: string): OneClassKind {
  if (!(ONECLASS_KINDS as readonly string[]).includes(v)) {
    throw new UsageError(`oneclass must be one of ${ONECLASS_KINDS.join(", ")}, got "${v}"`);
  }
  return v as OneClassKind;
}
