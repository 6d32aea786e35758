/**
 * A detector: a head (an image map, or a head on whole-image features) with a one-class
 * model, the feature source it reads and the thresholds of both. Every consumer (`detect`, the
 * evaluations, robustness, experiments, the exported detector) turns what the two stages give
 * into per-image scores and verdicts by one method, {@link Detector.judge}. An image is prepared
 * as in training (re-encoded as JPEG when the map was trained with `--match-compression`) and
 * tiled with the map's crop (up to `maxTilesPerSide` per side); the head gives the tiles' mean
 * p(CG), the one-class model the mean score of the tiles' vectors or of the whole image's vector.
 * A head on whole-image features (lib/head: linear or RBF-kernel) reads the whole image's
 * features instead (as `head.jpeg` says), its threshold set out of fold on photographs; no tiles.
 *
 * Decisions: the head calls an image rendered when p(CG) ≥ its threshold t (a map's set on its
 * natural validation images, lib/map/threshold.ts); the one-class model when its score > 0. The
 * verdict (rule `both`) is "computer-generated" or "natural" only when the two agree, each
 * outside its unsure band (|p − t| ≤ unsureP, narrowed near 0 or 1; |score| ≤ unsure ·
 * |threshold|), else "unsure". Rules `head` and `oneclass` use one stage; rule `fused` the
 * **fused score**, each stage read against the natural images its threshold was set on, combined
 * by Fisher's method ({@link Detector.fused}). An image that fails a check of the one-class model
 * (the residual slope) is never called natural by it.
 *
 * Saved as a folder (`detector.json`, `model.json/.bin` or `head.json`, `oneclass.json/.bin`),
 * loadable from disk or a URL; loading checks every file and never evaluates code from it.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { at, type Location, readAt, sha256Hex } from "../core/bundle.ts";
import { CgvsniError, ImageError, ModelError, UsageError } from "../core/errors.ts";
import { atomicWrite, exists, writeJson } from "../core/files.ts";
import type { Progress } from "../core/progress.ts";
import {
  DEFAULT_NU,
  fisherQuantile,
  fisherScore,
  meanPerImage,
  quantile,
  upperTail,
} from "../core/stats.ts";
import type { ChannelStats } from "../data/batch.ts";
import {
  decodeImage,
  type DecodeOptions,
  type DecoderRecord,
  warnOtherDecoder,
} from "../data/decode.ts";
import { cropAt, rgbaToRgb, type RgbImage, tileOrigins } from "../data/image.ts";
import { jpegRoundTrip } from "../data/perturb.ts";
import {
  embedding,
  FEATURE_SOURCES,
  type FeatureSource,
  needsMap,
  sourceSpec,
  specKey,
  wholeImageFeatures,
} from "../features/sources.ts";
import type { ENet } from "../map/enet.ts";
import { saveENet } from "../map/io.ts";
import { type HeadThreshold, headThreshold, UNSET_HEAD_THRESHOLD } from "../map/threshold.ts";
import { predict } from "../map/predict.ts";
import {
  type ClassRef,
  type ImageMap,
  loadImageMap,
  readMapRun,
  renderersName,
} from "../map/run.ts";
import { ONECLASS_STEM, type OneClassEstimator } from "../oneclass/estimator.ts";
import { loadOneClass } from "../oneclass/io.ts";
import {
  type FeatureHead,
  HEAD_MODELS,
  headFromJSON,
  type HeadModel,
  headModel,
} from "../head/heads.ts";
import {
  DEFAULT_ONECLASS_RUN,
  MIN_SIDE,
  type OneClassRunInfo,
  openOneClassRun,
} from "../oneclass/train.ts";

/**
 * Format tag of `detector.json`. Version 4 added the one-class stage's own preprocessing
 * (`preprocess.oneClass`), which a reader of version 3 would ignore and so score wrongly;
 * version 5 the head on whole-image features (`head`, `head.json`), which a reader of version 4
 * would not find (a reader of version 5 from before kernel heads refuses `head.kind` "rbf").
 * Version 3 and 4 files (neither) read as version 5.
 */
export const DETECTOR_FORMAT = "cgvsni-detector/5";

/**
 * The format a detector with an image map is saved in: version 4, which it needs no more than,
 * so that a reader from before heads on whole-image features still loads it.
 */
const MAP_FORMAT = "cgvsni-detector/4";

/** A head on whole-image features: its entry in `detector.json` (its weights are in `head.json`). */
export interface LinearHeadInfo {
  /** Its model: `linear` ({@link LogisticHead}) or `rbf` ({@link RbfSvmHead}). */
  kind: HeadModel;
  /** The whole-image features it reads. */
  features: FeatureSource;
  /** JPEG quality the image is re-encoded at before its features (absent: as decoded). */
  jpeg?: number;
  /** SHA-256 of `head.json` as saved (checked when loading). */
  sha256?: string;
}

/** What the detector says about one image. */
export type Verdict = "computer-generated" | "natural" | "unsure";

/**
 * Which stage decides: both must agree (default), one alone, or the fused score of the two
 * (`fused`: {@link Detector.fused}). A `detector.json` written before 0.3 may say `flow` for
 * `oneclass`; loading reads it so.
 */
export type VerdictRule = "both" | "head" | "oneclass" | "fused";

/** Rules by their names before 0.3. */
const OLD_RULES: Readonly<Record<string, VerdictRule>> = { flow: "oneclass" };

/** Every verdict rule. */
export const VERDICT_RULES: readonly VerdictRule[] = ["both", "head", "oneclass", "fused"];

/** The scores of one tile. */
export interface TileScore {
  /** Left edge of the tile in the image. */
  x: number;
  /** Top edge. */
  y: number;
  /** Head's softmax p(CG). */
  pCg: number;
  /** One-class score of the tile (map sources; NaN for whole-image sources). */
  score: number;
}

/** The result for one image: its scores and verdict ({@link Judgement}), and where they come from. */
export interface Detection extends Omit<Judgement, "norm"> {
  /** Number of crops scored. */
  crops: number;
  /** Image width. */
  width: number;
  /** Image height. */
  height: number;
  /** Per-tile scores. */
  tiles: TileScore[];
}

/** Pixels in the browser's `ImageData` shape (RGBA, 8 bits per channel). */
export interface ImageDataLike {
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
  /** `width * height * 4` bytes, RGBA. */
  data: Uint8ClampedArray | Uint8Array;
}

/**
 * What the two stages gave for a batch of images, each row tagged with the image (0-based) it
 * came from: what {@link Detector.judge} turns into per-image scores.
 */
export interface StageOutputs {
  /** Number of images. */
  images: number;
  /** The head's p(CG) of each crop, and each crop's image (absent without a map). */
  head?: { pCg: ArrayLike<number>; image: ArrayLike<number> };
  /** The one-class feature vectors (`n` rows of `dim`, row-major), and each row's image. */
  vectors: { data: Float32Array; n: number; dim: number; image: ArrayLike<number> };
}

/** One image's scores and verdict, as {@link Detector.judge} gives them. */
export interface Judgement {
  /** Mean p(CG) over the image's crops (the supervised head; NaN without a map). */
  pCg: number;
  /** Mean one-class decision function over the image's vectors (> 0: computer-generated). */
  score: number;
  /**
   * The fused score of the two stages (> 0: computer-generated; see {@link Detector.fused}).
   * Absent when the detector lacks a stage's natural references (older detectors).
   */
  fused?: number;
  /**
   * With a Gaussian in parts (the residual features' `texture` and `slope`): each part's score,
   * by name (the mean over the image's vectors; with one vector, `score` is the largest scoring
   * part).
   * Above 0, a scoring part alone puts the image outside (`texture`: its noise residuals look
   * unlike a camera's), and a check part says the image fails that check (`slope`: too smooth,
   * or too flat, at fine scales for its content).
   */
  parts?: Record<string, number>;
  /**
   * The one-class model's checks the image fails (e.g. `["slope"]`): the one-class stage then
   * calls it "unsure", not "natural". Empty when it passes them all or the model has none.
   */
  checks: string[];
  /** Verdict (see {@link VerdictRule}). */
  verdict: Verdict;
  /** Whether head (p ≥ its threshold) and one-class model (score > 0) call it differently. */
  disagree: boolean;
  /** Mean L2 norm of the image's one-class feature vectors. */
  norm: number;
}

/** Metadata in `detector.json`. */
export interface DetectorInfo {
  /** Format tag. */
  format: string;
  /** Name of this detector. */
  name: string;
  /** The renderers the map was trained against. */
  renderers: ClassRef[];
  /** The feature source of the one-class model. */
  features: FeatureSource;
  /**
   * Done to every image before scoring, as in training: `jpeg`, a JPEG re-encoding at that
   * quality; `oneClass`, when present, what the one-class stage's whole-image features read
   * instead (`{}`: the image as decoded), for a one-class model fitted apart from the map.
   */
  preprocess: { jpeg?: number; oneClass?: { jpeg?: number } };
  /**
   * The decoder the one-class model was fitted with (absent: before decoders were recorded,
   * pixels version 1); scoring with another warns (`lib/data/decode.ts`).
   */
  decoder?: DecoderRecord;
  /** Unsure band of the one-class score, as a fraction of |threshold|. */
  unsure: number;
  /**
   * When set, the one-class unsure band (rules `oneclass` and `both`; `fused` and `head` do not
   * read it) is sized on the natural reference instead of `unsure`: the share s of it centred on
   * the threshold's place in it, so that about s of photographs like those the threshold was set
   * on fall in the band ({@link Detector.oneClassBand}). At most 2ν.
   */
  unsureShare?: number;
  /** The head's threshold on p(CG), and how it was set (lib/map/threshold.ts). */
  headThreshold: HeadThreshold;
  /** Unsure band of the head: |p(CG) − threshold| ≤ unsureP. */
  unsureP: number;
  /** Verdict rule. */
  rule: VerdictRule;
  /** Most tiles per image side when scoring whole images. */
  maxTilesPerSide: number;
  /** A head on whole-image features in place of the map (module documentation); absent: the map's. */
  head?: LinearHeadInfo;
  /** Where it came from (map run, one-class run, dataset). */
  provenance?: Record<string, unknown>;
}

/** Options of {@link Detector.score}. */
export interface ScoreOptions extends DecodeOptions {
  /** Most tiles per side (default: the detector's). */
  maxTilesPerSide?: number;
  /** Name used in error messages. */
  name?: string;
}

/** Default unsure band of the head around its threshold. */
export const DEFAULT_UNSURE_P = 0.1;
/** Default unsure band of the one-class score, as a fraction of |threshold|. */
export const DEFAULT_UNSURE = 0.1;
/** Most tiles per side when scoring a whole image. */
export const DEFAULT_MAX_TILES = 4;

/**
 * The level q at which `sorted` (ascending) takes the value `t`, read as {@link quantile}
 * interpolates (0 below the first value, 1 above the last).
 */
function levelIn(sorted: Float32Array, t: number): number {
  const n = sorted.length;
  if (n === 1 || t <= sorted[0]) return 0;
  if (t >= sorted[n - 1]) return 1;
  let k = 0;
  while (sorted[k + 1] < t) k++;
  const gap = sorted[k + 1] - sorted[k];
  return (k + (gap > 0 ? (t - sorted[k]) / gap : 0)) / (n - 1);
}

/** Whether an unsure share s fits a one-class model of rate ν: 0 < s ≤ 2ν. */
const shareFits = (s: number, nu: number) => s > 0 && s <= 2 * nu + 1e-12;

/**
 * Checks an unsure share s for a one-class model of rate ν: 0 < s ≤ 2ν, so that the band's upper
 * edge, the (1 − ν + s/2) quantile, is one of the reference's.
 *
 * @example
 * ```ts
 * import { checkUnsureShare } from "./mod.ts";
 * checkUnsureShare(0.04, 0.05, "--unsure-share"); // fine; 0.2 would throw
 * ```
 */
export function checkUnsureShare(s: number, nu: number, where: string): void {
  if (!shareFits(s, nu)) {
    throw new UsageError(
      `${where}: the unsure share must be in (0, 2ν] = (0, ${2 * nu}] (got ${s})`,
    );
  }
}

/**
 * A loaded detector.
 *
 * @example Score an image with the shipped detector
 * ```ts
 * import { loadDetector } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const det = await loadDetector(new URL("../../models/cgbench-small/", import.meta.url));
 * const d = await det.score(await Deno.readFile("dataset/POVRay/povray_00003.png"));
 * console.log(d.verdict, d.pCg, d.score, d.disagree);
 * det.dispose();
 * ```
 */
export class Detector {
  /** The image map (absent: a head on whole-image features, or a one-class model alone). */
  readonly map?: ImageMap;
  /**
   * The head on whole-image features (linear, or an RBF-kernel SVM), when the detector has one in
   * place of the map.
   */
  readonly featureHead?: FeatureHead;
  /** @deprecated The name before kernel heads: {@link Detector.featureHead}. */
  get linear(): FeatureHead | undefined {
    return this.featureHead;
  }
  /** The one-class model. */
  readonly oneClass: OneClassEstimator;
  /** Metadata. */
  readonly info: DetectorInfo;

  /**
   * A detector from its parts; without a map or a head on whole-image features, the rule must be
   * `oneclass`. Such a head needs `info.head` (naming its model), and its threshold and reference
   * in `info.headThreshold`.
   */
  constructor(
    map: ImageMap | undefined,
    oneClass: OneClassEstimator,
    info: DetectorInfo,
    featureHead?: FeatureHead,
  ) {
    if (!map && (needsMap(info.features) || (!featureHead && info.rule !== "oneclass"))) {
      throw new ModelError(
        `a detector without an image map reads whole-image features with rule oneclass ` +
          `(or has a head on whole-image features), not ${info.features} with rule ${info.rule}`,
      );
    }
    if (featureHead && (map || !info.head || needsMap(info.head.features))) {
      throw new ModelError(
        "a head on whole-image features stands in for the map and reads the features info.head names",
      );
    }
    if (featureHead && info.head!.kind !== headModel(featureHead)) {
      throw new ModelError(
        `a head of the ${headModel(featureHead)} model, info.head says ${info.head!.kind}`,
      );
    }
    if (
      featureHead && (info.headThreshold.value !== featureHead.threshold ||
        info.headThreshold.reference.length !== featureHead.reference.length)
    ) {
      throw new ModelError("info.headThreshold is not the head's own threshold and reference");
    }
    this.map = map;
    this.featureHead = featureHead;
    this.oneClass = oneClass;
    this.info = info;
  }

  /**
   * The one-class unsure band in score units (the score is 0 at the threshold): scores in
   * [lo, hi] are "unsure". ±`unsure`·|threshold|; or, with `unsureShare` s, the natural
   * reference's quantiles at q − s/2 and q + s/2 less the threshold, q the threshold's own level in
   * the reference (1 − ν as fitted; lower once `calibrate` has raised the threshold), the band
   * always holding 0. A ModelError without a reference, or for s over 2ν.
   *
   * @example The band of the shipped detector
   * ```ts
   * import { loadDetector } from "./mod.ts";
   * const det = await loadDetector("models/corpus-rbf5");
   * const { lo, hi } = det.oneClassBand();
   * console.log(lo < 0 && hi > 0);
   * det.dispose();
   * ```
   */
  oneClassBand(): { lo: number; hi: number } {
    const s = this.info.unsureShare, oc = this.oneClass;
    if (s === undefined) {
      const w = this.info.unsure * Math.abs(oc.threshold);
      return { lo: -w, hi: w };
    }
    const ref = oc.reference, b = this.#band;
    if (b?.share === s && b.threshold === oc.threshold && b.reference === ref) {
      return { lo: b.lo, hi: b.hi };
    }
    const where = `detector ${this.info.name}`;
    if (!ref?.length) {
      throw new ModelError(
        `${where}: an unsure band sized on the photographs (unsureShare) needs the one-class ` +
          "model's natural reference scores, and this model has none",
      );
    }
    if (!shareFits(s, oc.nu)) {
      throw new ModelError(
        `${where}: unsureShare must be in (0, 2ν] = (0, ${2 * oc.nu}], got ${s}`,
      );
    }
    const q = levelIn(ref, oc.threshold);
    const at = (x: number) => quantile(ref, Math.min(1, Math.max(0, x))) - oc.threshold;
    this.#band = {
      share: s,
      threshold: oc.threshold,
      reference: ref,
      lo: Math.min(0, at(q - s / 2)),
      hi: Math.max(0, at(q + s / 2)),
    };
    return { lo: this.#band.lo, hi: this.#band.hi };
  }
  #band?: { share: number; threshold: number; reference: Float32Array; lo: number; hi: number };

  /** The map's network. */
  get net(): ENet {
    if (!this.map) throw new ModelError(`detector ${this.info.name} has no image map`);
    return this.map.net;
  }

  /** Normalisation the map was trained with. */
  get norm(): ChannelStats {
    if (!this.map) throw new ModelError(`detector ${this.info.name} has no image map`);
    return this.map.norm;
  }

  /**
   * The fused score of a head p(CG) and a one-class score: Fisher's combination of their
   * upper-tail p-values among the natural images each stage's threshold was set on (the map's
   * natural validation images; the one-class model's natural training scores, out of fold),
   * minus its 95 % quantile under independence (χ²(4), 9.49). Above 0: computer-generated.
   * A tail p-value is at least 1 / (n + 1), so the score can pass 0 only when
   * (n_head + 1)(n_oneclass + 1) > 115 (cgbench: 54 × 125). Undefined when either stage lacks
   * its references (detectors saved before them).
   */
  fused(pCg: number, score: number): number | undefined {
    return fusedScore(this.info.headThreshold.reference, pCg, this.oneClass, score);
  }

  /** Whether both stages kept their natural references, so that {@link Detector.fused} exists. */
  get fuses(): boolean {
    return this.info.headThreshold.reference.length > 0 && !!this.oneClass.reference?.length;
  }

  /** The head's threshold: p(CG) at or above it is "computer-generated". */
  get headAt(): number {
    return this.info.headThreshold.value;
  }

  /** Crop side the map reads (without a map: the smallest image side the features take). */
  get crop(): number {
    return this.map?.net.cfg.crop ?? MIN_SIDE;
  }

  /**
   * Per-image scores and verdicts from what the two stages gave (see {@link StageOutputs}): the
   * one scoring method every consumer calls. An image's p(CG) is the mean over its crops, its
   * one-class score (and each part's, for a model in parts) the mean over its vectors; an image
   * with a check part above 0 fails that check.
   *
   * @example Two images, two crops each, one vector each
   * ```ts
   * import { Detector, DETECTOR_FORMAT } from "./mod.ts";
   * import { GaussianOneClass } from "../oneclass/mod.ts";
   * const x = Float32Array.from({ length: 200 * 3 }, (_, i) => Math.sin(i * 7.1));
   * const oc = await new GaussianOneClass().fit(x, 200, 3);
   * const det = new Detector(undefined, oc, {
   *   format: DETECTOR_FORMAT, name: "gauss", renderers: [], features: "residual", preprocess: {},
   *   unsure: 0.1, unsureP: 0.1, rule: "oneclass", maxTilesPerSide: 4,
   *   headThreshold: { value: 0.5, nu: 0, from: "none", n: 0, tiles: 0, reference: [] },
   * });
   * const [a, b] = await det.judge({
   *   images: 2,
   *   vectors: { data: new Float32Array([0, 0, 0, 40, 40, 40]), n: 2, dim: 3, image: [0, 1] },
   * });
   * console.log(a.verdict, b.verdict, b.score > 0); // natural computer-generated true
   * ```
   */
  async judge(o: StageOutputs): Promise<Judgement[]> {
    return this.#judge(o, await this.oneClass.decisionFunction(o.vectors.data, o.vectors.n));
  }

  /** {@link Detector.judge}, given the rows' decision function. */
  #judge(o: StageOutputs, rowScores: Float32Array): Judgement[] {
    const { data, n, dim, image } = o.vectors;
    const oc = this.oneClass, k = o.images;
    const sums = (values: ArrayLike<number>, of: ArrayLike<number>) => meanPerImage(values, of, k);
    const p = o.head ? sums(o.head.pCg, o.head.image) : new Array<number>(k).fill(NaN);
    const score = sums(rowScores, image);
    const parts = Object.entries(oc.partScores(data, n)).map(([name, v]) =>
      [name, sums(v, image)] as const
    );
    const norms = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let j = 0; j < dim; j++) sq += data[i * dim + j] ** 2;
      norms[i] = Math.sqrt(sq);
    }
    const norm = sums(norms, image);
    return score.map((sc, j) => {
      const failed = parts.filter(([name, v]) => oc.checks.includes(name) && v[j] > 0)
        .map(([name]) => name);
      const fused = o.head ? this.fused(p[j], sc) : undefined;
      return {
        pCg: p[j],
        score: sc,
        ...(fused !== undefined ? { fused } : {}),
        ...(parts.length
          ? { parts: Object.fromEntries(parts.map(([name, v]) => [name, v[j]])) }
          : {}),
        checks: failed,
        verdict: this.verdict(p[j], sc, failed),
        disagree: o.head ? (p[j] >= this.headAt) !== (sc > 0) : false,
        norm: norm[j],
      };
    });
  }

  /**
   * The verdict for a head probability, a one-class score and the one-class checks the image
   * fails (any failed check keeps the one-class stage, and the fused score, from saying
   * "natural"). Rule `fused` decides on the fused score, with an unsure band of `unsure` times
   * its threshold; "unsure" when the detector has none.
   */
  verdict(pCg: number, score: number, failed: string[] = []): Verdict {
    if (this.info.rule === "fused") {
      const f = this.fused(pCg, score), band = this.info.unsure * fisherQuantile(2, 1 - DEFAULT_NU);
      return f === undefined
        ? "unsure"
        : f > band
        ? "computer-generated"
        : f < -band && failed.length === 0
        ? "natural"
        : "unsure";
    }
    const t = this.headAt;
    const bandP = Math.min(this.info.unsureP, t / 2, (1 - t) / 2);
    const head: Verdict = pCg > t + bandP
      ? "computer-generated"
      : pCg < t - bandP
      ? "natural"
      : "unsure";
    if (this.info.rule === "head") return head;
    const band = this.oneClassBand();
    const oc: Verdict = score > band.hi
      ? "computer-generated"
      : score < band.lo && failed.length === 0
      ? "natural"
      : "unsure";
    if (this.info.rule === "oneclass") return oc;
    return head === oc ? head : "unsure";
  }

  /** The image as the detector's map reads it: re-encoded as in training, when it was. */
  async prepare(img: RgbImage): Promise<RgbImage> {
    return this.info.preprocess.jpeg ? await jpegRoundTrip(img, this.info.preprocess.jpeg) : img;
  }

  /**
   * The image as the one-class stage's whole-image features read it: as it was fitted
   * (`preprocess.oneClass`), else as the map reads it (`prepared`, when given).
   */
  async prepareOneClass(img: RgbImage, prepared?: RgbImage): Promise<RgbImage> {
    const own = this.info.preprocess.oneClass;
    if (!own) return prepared ?? await this.prepare(img);
    return own.jpeg ? await jpegRoundTrip(img, own.jpeg) : img;
  }

  /**
   * Scores an image given as encoded bytes (PNG, JPEG, TIFF) or decoded RGBA pixels. The image
   * is tiled with the map's crop size; an image smaller than the crop is an {@link ImageError}.
   */
  async score(input: Uint8Array | ImageDataLike, opts: ScoreOptions = {}): Promise<Detection> {
    const name = opts.name ?? "<image>";
    const decoded = input instanceof Uint8Array
      ? await decodeImage(input, name, opts)
      : fromRgba(input);
    return await this.scoreImage(decoded, opts);
  }

  /**
   * What the two stages make of decoded RGB pixels, before any judgement: the image as the
   * detector reads it (prepared), the tiles' origins, their head p(CG), and the one-class vectors
   * (one per tile for a map's features, one for whole-image features). {@link Detector.scoreImage}
   * judges them; `calibrate` collects them. With `oneClassOnly`, the head is not run unless the
   * one-class vectors come from the map (no `head` then): what a refit of the one-class model
   * needs of its corpus. An image smaller than the crop is an {@link ImageError}.
   */
  async stages(
    decoded: RgbImage,
    opts: ScoreOptions & { oneClassOnly?: boolean } = {},
  ): Promise<{ outputs: StageOutputs; origins: [number, number][]; img: RgbImage }> {
    const s = this.#fits(decoded, opts);
    const img = await this.prepare(decoded);
    const mapSource = needsMap(this.info.features);
    const runMap = !!this.map && (mapSource || !opts.oneClassOnly);
    const origins = runMap ? this.#origins(img, opts) : [];
    const whole = this.featureHead && !opts.oneClassOnly
      ? await this.#featureHeadPCg(decoded)
      : undefined;
    const crops = origins.map(([x, y]) => cropAt(img, x, y, s, s));
    const r = runMap
      ? await predict(this.net, crops.length, (i) => Promise.resolve(crops[i]), this.norm, {
        embed: mapSource ? embedding(this.info.features) : undefined,
      })
      : undefined;
    const vectors = mapSource
      ? { data: r!.features!, n: crops.length, dim: r!.features!.length / crops.length }
      : await wholeImageFeatures(this.info.features, await this.prepareOneClass(decoded, img))
        .then((x) => ({
          data: x,
          n: 1,
          dim: x.length,
        }));
    return {
      outputs: {
        images: 1,
        head: r && !opts.oneClassOnly
          ? { pCg: r.pCg, image: new Uint8Array(crops.length) }
          : whole !== undefined
          ? { pCg: [whole], image: [0] }
          : undefined,
        vectors: { ...vectors, image: new Uint8Array(vectors.n) },
      },
      origins: origins as [number, number][],
      img,
    };
  }

  /** The crop side, once the image is known to take it ({@link ImageError} if smaller). */
  #fits(decoded: RgbImage, opts: ScoreOptions): number {
    const s = this.crop;
    if (decoded.width < s || decoded.height < s) {
      throw new ImageError(
        opts.name ?? "<image>",
        `${decoded.width}x${decoded.height} is smaller than the ${s}x${s} crop`,
      );
    }
    return s;
  }

  /** Where the map's tiles of a prepared image start (up to `maxTilesPerSide` per side). */
  #origins(img: RgbImage, opts: ScoreOptions): [number, number][] {
    const s = this.crop, per = opts.maxTilesPerSide ?? this.info.maxTilesPerSide;
    return tileOrigins(img.width, img.height, s, per) as [number, number][];
  }

  /**
   * The head's p(CG) of decoded pixels alone, as {@link Detector.stages} gives it (the image
   * prepared as in training, the mean over its tiles), without the one-class features: what
   * `loso --head` reads for every image. A detector without a map has no head
   * ({@link ModelError}); an image smaller than the crop is an {@link ImageError}.
   *
   * @example
   * ```ts
   * import { loadDetector } from "./mod.ts";
   * import { initBackend } from "../backends/mod.ts";
   * import { decodeImage } from "../data/decode.ts";
   * await initBackend("auto");
   * const det = await loadDetector(new URL("../../models/cgbench-small/", import.meta.url));
   * const name = "dataset/POVRay/povray_00003.png";
   * const img = await decodeImage(await Deno.readFile(name), name);
   * console.log(await det.headPCg(img)); // the same p(CG) as (await det.score(bytes)).pCg
   * det.dispose();
   * ```
   */
  async headPCg(decoded: RgbImage, opts: ScoreOptions = {}): Promise<number> {
    if (this.featureHead) {
      this.#fits(decoded, opts);
      return await this.#featureHeadPCg(decoded);
    }
    const net = this.net, s = this.#fits(decoded, opts);
    const img = await this.prepare(decoded);
    const crops = this.#origins(img, opts).map(([x, y]) => cropAt(img, x, y, s, s));
    const r = await predict(net, crops.length, (i) => Promise.resolve(crops[i]), this.norm, {});
    return meanPerImage(r.pCg, new Uint8Array(crops.length), 1)[0];
  }

  /**
   * The vector a head on whole-image features reads from decoded pixels: the image re-encoded as
   * the head was trained (`info.head.jpeg`), then its features (`info.head.features`). What
   * `calibrate --mode renders` adds to a kernel head; refused without such a head.
   *
   * @example
   * ```ts
   * import { loadDetector } from "./mod.ts";
   * import { initBackend } from "../backends/mod.ts";
   * import { readImage } from "../data/decode.ts";
   * await initBackend("auto");
   * const det = await loadDetector("models/corpus-rbf5");
   * const x = await det.headFeatures(await readImage("dataset/POVRay/povray_00003.png"));
   * console.log(x.length === det.featureHead!.dim); // true
   * det.dispose();
   * ```
   */
  async headFeatures(decoded: RgbImage): Promise<Float32Array> {
    const h = this.info.head;
    if (!this.featureHead || !h) {
      throw new ModelError(`detector ${this.info.name} has no head on whole-image features`);
    }
    const img = h.jpeg ? await jpegRoundTrip(decoded, h.jpeg) : decoded;
    return await wholeImageFeatures(h.features, img);
  }

  /** The whole-image head's p(CG) of decoded pixels: its features of the image as it reads it. */
  async #featureHeadPCg(decoded: RgbImage): Promise<number> {
    return this.featureHead!.pCg(await this.headFeatures(decoded), 1)[0];
  }

  /**
   * Scores decoded RGB pixels (what {@link Detector.score} does after decoding). An image
   * smaller than the crop is an {@link ImageError}.
   */
  async scoreImage(decoded: RgbImage, opts: ScoreOptions = {}): Promise<Detection> {
    const { outputs, origins, img } = await this.stages(decoded, opts);
    const v = outputs.vectors;
    const rows = await this.oneClass.decisionFunction(v.data, v.n);
    const [j] = this.#judge(outputs, rows);
    const tileScores = needsMap(this.info.features)
      ? rows
      : new Float32Array(origins.length).fill(NaN);
    const { norm: _norm, ...judged } = j;
    return {
      ...judged,
      crops: origins.length,
      width: img.width,
      height: img.height,
      tiles: origins.map(([x, y], i) => ({
        x,
        y,
        pCg: outputs.head!.pCg[i],
        score: tileScores[i],
      })),
    };
  }

  /** Writes the detector to a folder (`detector.json`, `model.*` or `head.json`, `oneclass.*`). */
  async save(dir: string): Promise<void> {
    if (!this.map && !this.featureHead) {
      throw new ModelError(
        `detector ${this.info.name}: a detector without a head (a map or a whole-image head) is not saved`,
      );
    }
    await Deno.mkdir(dir, { recursive: true });
    let info: DetectorInfo = { ...this.info, format: MAP_FORMAT };
    if (this.featureHead) {
      const bytes = new TextEncoder().encode(
        JSON.stringify(this.featureHead.toJSON(), null, 2) + "\n",
      );
      await atomicWrite(join(dir, HEAD_FILE), bytes);
      info = {
        ...this.info,
        format: DETECTOR_FORMAT,
        head: { ...this.info.head!, sha256: await sha256Hex(bytes) },
      };
    } else await saveENet(dir, this.net, this.norm, "model");
    await this.oneClass.save(dir, ONECLASS_STEM);
    await writeJson(join(dir, "detector.json"), info);
  }

  /** Frees the tensors. */
  dispose(): void {
    this.map?.net.dispose();
    this.oneClass.dispose();
  }
}

/**
 * The fused score of a head p(CG), read against the head's natural references, and a one-class
 * score, read against the model's (see {@link Detector.fused}); undefined without either.
 *
 * @example An image beyond every natural reference of both stages
 * ```ts
 * import { fusedScore } from "./mod.ts";
 * import { GaussianOneClass } from "../oneclass/mod.ts";
 * const x = Float32Array.from({ length: 600 }, (_, i) => Math.sin(i * 1.7));
 * const g = await new GaussianOneClass().fit(x, 200, 3); // 200 natural reference scores
 * const head = Array.from({ length: 100 }, (_, i) => i / 200);
 * console.log(fusedScore(head, 0.99, g, 100)! > 0, fusedScore([], 0.99, g, 100)); // true undefined
 * ```
 */
export function fusedScore(
  headReference: ArrayLike<number>,
  pCg: number,
  oneClass: OneClassEstimator,
  score: number,
): number | undefined {
  const oc = oneClass.naturalTail(score);
  return headReference.length && oc !== undefined
    ? fisherScore([upperTail(headReference, pCg), oc])
    : undefined;
}

/** RGBA pixels to RGB (alpha dropped). */
export function fromRgba(d: ImageDataLike): RgbImage {
  const n = d.width * d.height;
  if (d.data.length !== n * 4) {
    throw new RangeError(
      `ImageData of ${d.width}x${d.height} needs ${n * 4} bytes, got ${d.data.length}`,
    );
  }
  return { width: d.width, height: d.height, data: rgbaToRgb(d.data, n) };
}

/** The head's threshold of a detector from before it had one. */
const UNSET: HeadThreshold = {
  value: UNSET_HEAD_THRESHOLD,
  nu: 0,
  from: "none: a detector from before the head's threshold",
  n: 0,
  tiles: 0,
  reference: [],
};

/** The file of a detector's head on whole-image features. */
const HEAD_FILE = "head.json";

/** Checks `detector.json`, bringing a version 1, 2, 3 or 4 file up to date. */
function checkInfo(raw: unknown, where: string): DetectorInfo {
  const i = raw as DetectorInfo & { renderer?: ClassRef };
  if (i?.format === "cgvsni-detector/1") {
    Object.assign(i, {
      format: "cgvsni-detector/2",
      renderers: i.renderer ? [i.renderer] : [],
      features: "l9",
      preprocess: {},
      unsureP: i.unsureP ?? DEFAULT_UNSURE_P,
      rule: i.rule ?? "both",
    });
  }
  if (i?.format === "cgvsni-detector/2") {
    Object.assign(i, { format: "cgvsni-detector/3", headThreshold: { ...UNSET } });
  }
  if (i?.format === "cgvsni-detector/3" || i?.format === "cgvsni-detector/4") {
    i.format = DETECTOR_FORMAT;
  }
  if (i?.headThreshold && i.headThreshold.reference === undefined) i.headThreshold.reference = [];
  if (i?.rule) i.rule = OLD_RULES[i.rule] ?? i.rule;
  if (i?.format !== DETECTOR_FORMAT) {
    throw new ModelError(`${where}: format is "${i?.format}", expected "${DETECTOR_FORMAT}"`);
  }
  const q = i.preprocess?.jpeg, own = i.preprocess?.oneClass, q1 = own?.jpeg;
  const quality = (x: unknown) =>
    x === undefined || (typeof x === "number" && Number.isInteger(x) && x >= 1 && x <= 100);
  if (
    !(i.unsure >= 0) ||
    (i.unsureShare !== undefined && !(i.unsureShare > 0 && i.unsureShare < 1)) ||
    !Number.isInteger(i.maxTilesPerSide) || i.maxTilesPerSide < 1 ||
    !(i.unsureP >= 0 && i.unsureP < 0.5) ||
    !(i.headThreshold?.value >= 0 && i.headThreshold.value <= 1) ||
    !(Array.isArray(i.headThreshold.reference) &&
      i.headThreshold.reference.every(Number.isFinite)) ||
    !VERDICT_RULES.includes(i.rule) ||
    typeof i.preprocess !== "object" ||
    !quality(q) ||
    (own !== undefined && (typeof own !== "object" || own === null || !quality(q1))) ||
    (own !== undefined && needsMap(i.features)) ||
    (i.head !== undefined &&
      (!HEAD_MODELS.includes(i.head?.kind) || !FEATURE_SOURCES.includes(i.head.features) ||
        needsMap(i.head.features) || !quality(i.head.jpeg))) ||
    !Array.isArray(i.renderers)
  ) {
    throw new ModelError(
      `${where}: bad unsure band, head threshold, rule, tile count, preprocessing or head (linear, rbf)`,
    );
  }
  return i;
}

/**
 * Loads a detector from a folder path or a URL of that folder (`http:`, `https:`, `file:`).
 * Every file is validated (format, shapes, sizes, checksums, and that the one-class model was
 * fitted on this map's features); nothing in them is executed.
 *
 * @example From a folder or a URL; everything is checked, nothing executed
 * ```ts
 * import { loadDetector } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const det = await loadDetector(new URL("../../models/cgbench-small/", import.meta.url));
 * console.log(det.info.name, det.info.features, det.oneClass.kind);
 * det.dispose();
 * ```
 */
export async function loadDetector(pathOrUrl: string | URL): Promise<Detector> {
  const loc: Location = pathOrUrl instanceof URL
    ? pathOrUrl
    : /^(https?|file):\/\//.test(pathOrUrl)
    ? new URL(pathOrUrl.endsWith("/") ? pathOrUrl : pathOrUrl + "/")
    : pathOrUrl;
  const where = at(loc, "detector.json");
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(await readAt(loc, "detector.json")));
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(`${where}: not valid JSON`);
  }
  const info = checkInfo(raw, where);
  if (info.head) return bandChecked(await loadWithFeatureHead(loc, info), where);
  const map = await loadImageMap(loc, "model");
  let oc: OneClassEstimator;
  try {
    oc = await loadOneClass(loc, ONECLASS_STEM);
  } catch (e) {
    map.net.dispose();
    throw e;
  }
  const problem = mismatch(map, oc, info.features);
  if (problem) {
    map.net.dispose();
    oc.dispose();
    throw new ModelError(`${at(loc, "oneclass.json")}: ${problem}`);
  }
  await warnOtherDecoder(info.decoder, at(loc, "detector.json"));
  return bandChecked(new Detector(map, oc, info), where);
}

/** `det`, once its unsure band is known to be computable (else disposed of, and a ModelError). */
function bandChecked(det: Detector, where: string): Detector {
  try {
    det.oneClassBand();
    return det;
  } catch (e) {
    det.dispose();
    throw new ModelError(`${where}: ${(e as Error).message}`);
  }
}

/** A detector with a head on whole-image features: `head.json` and the one-class model, each checked. */
async function loadWithFeatureHead(loc: Location, info: DetectorInfo): Promise<Detector> {
  const { head, where } = await readFeatureHead(loc, info.head!.sha256);
  const problem = featureHeadMismatch(head, info.head!);
  if (problem) throw new ModelError(`${where}: ${problem}`);
  const oc = await loadOneClass(loc, ONECLASS_STEM);
  const p = oc.provenance;
  try {
    if (p && p.source !== info.features) {
      throw new ModelError(
        `${
          at(loc, "oneclass.json")
        }: fitted on ${p.source} features, the detector reads ${info.features}`,
      );
    }
    await warnOtherDecoder(info.decoder, at(loc, "detector.json"));
    return new Detector(undefined, oc, info, head);
  } catch (e) {
    oc.dispose();
    throw e;
  }
}

/**
 * The head on whole-image features in a folder (`head.json`), of the model its format names,
 * every field checked; with `sha256`, the file's checksum first. Errors name the file.
 */
async function readFeatureHead(
  loc: Location,
  sha256?: string,
): Promise<{ head: FeatureHead; where: string }> {
  const where = at(loc, HEAD_FILE), bytes = await readAt(loc, HEAD_FILE);
  if (sha256 !== undefined && await sha256Hex(bytes) !== sha256) {
    throw new ModelError(
      `${where}: checksum differs from detector.json's (a changed or damaged file)`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new ModelError(`${where}: not valid JSON`);
  }
  return { head: headFromJSON(raw, where), where };
}

/**
 * Why a whole-image head does not read images as `detector.json` says, if it does not: its model,
 * its features, their definition's version, or its JPEG re-encoding.
 */
function featureHeadMismatch(head: FeatureHead, h: LinearHeadInfo): string | undefined {
  if (headModel(head) !== h.kind) {
    return `a head of the ${headModel(head)} model, detector.json says ${h.kind}`;
  }
  const p = head.provenance ?? {};
  if (p.features !== undefined && p.features !== h.features) {
    return `fitted on ${p.features} features, detector.json says ${h.features}`;
  }
  const key = specKey(h.features), spec = key ? p[key] : undefined;
  if (spec !== undefined && JSON.stringify(spec) !== JSON.stringify(sourceSpec(h.features))) {
    return `fitted on another version of the ${h.features} features than this toolkit computes`;
  }
  if ((p.matchCompression ?? undefined) !== h.jpeg) {
    return `fitted on images re-encoded at JPEG ${
      p.matchCompression ?? "none"
    }, detector.json says ${h.jpeg ?? "none"}`;
  }
  return undefined;
}

/** Why a one-class model does not fit a map and source, if it does not. */
function mismatch(map: ImageMap, oc: OneClassEstimator, source: FeatureSource): string | undefined {
  const p = oc.provenance;
  if (p && p.source !== source) {
    return `fitted on ${p.source} features, the detector reads ${source}`;
  }
  if (needsMap(source) && p?.map && p.map !== map.sha) {
    return "fitted on the features of another map (checksums differ)";
  }
  if (source === "l9" && oc.dim !== map.net.cfg.fc) {
    return `expects ${oc.dim}-d features, the map gives ${map.net.cfg.fc}`;
  }
  return undefined;
}

/**
 * A detector from a map run and one of its one-class runs (`runs/<map>/<oneclass>`), or from a
 * one-class run of its own (`mapName` undefined: no head, rule `oneclass`), with its provenance
 * attached. The head's threshold is set on the map's natural validation images the first time
 * (lib/map/threshold.ts).
 *
 * @example A detector straight from a map run and its one-class run
 * ```ts
 * import { detectorFromRun } from "./mod.ts";
 * import { trainMap } from "../map/mod.ts";
 * import { trainOneClass } from "../oneclass/mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * await initBackend("auto");
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress: makeProgress({ quiet: true }) });
 * await trainOneClass({ map: "m", runs, features: "residual", oneclass: "gauss", progress: makeProgress({ quiet: true }) });
 * const det = await detectorFromRun(runs, "m", "residual-gauss");
 * await det.save(`${runs}/detector`);
 * det.dispose();
 * ```
 */
export async function detectorFromRun(
  runs: string,
  mapName: string | undefined,
  oneclass = DEFAULT_ONECLASS_RUN,
  o: {
    unsure?: number;
    progress?: Progress;
    /** Crop cache of the head's threshold (default `<runs>/.cache`). */
    cacheDir?: string;
    /** The one-class run, when the caller has opened it already. */
    run?: OneClassRunInfo;
  } = {},
): Promise<Detector> {
  // the dataset's files are not checked here: the head's threshold is cached, and a detector
  // must open from a run whose dataset has moved since
  const info = o.run ?? await openOneClassRun(runs, mapName, oneclass, {
    mapInfo: mapName ? await readMapRun(runs, mapName, { checkFiles: false }) : undefined,
  });
  const mapRun = info.mapRun;
  let oc: OneClassEstimator;
  try {
    oc = await loadOneClass(info.dir);
  } catch (e) {
    if (e instanceof CgvsniError && /not found/.test(e.message)) {
      throw new CgvsniError(`${info.dir}: no trained one-class model (train it first)`);
    }
    throw e;
  }
  let map: ImageMap | undefined, head = UNSET;
  try {
    await warnOtherDecoder(oc.provenance?.decoder as DecoderRecord | undefined, info.dir);
    map = mapRun ? await loadImageMap(join(mapRun.dir, "model")) : undefined;
    if (mapRun && map) {
      head = await headThreshold(mapRun, map, {
        cacheDir: o.cacheDir ?? join(runs, ".cache"),
        progress: o.progress,
      });
    }
  } catch (e) {
    map?.net.dispose();
    oc.dispose();
    throw e;
  }
  const summary = await Deno.readTextFile(join(info.dir, "summary.json")).then(JSON.parse).catch(
    () => undefined,
  );
  const jpeg = info.matchCompression;
  return new Detector(map, oc, {
    format: DETECTOR_FORMAT,
    name: mapName ? `${mapName}/${oneclass}` : oneclass,
    renderers: mapRun?.config.renderers ?? [],
    features: info.config.features,
    preprocess: jpeg ? { jpeg } : {},
    ...(oc.provenance?.decoder ? { decoder: oc.provenance.decoder as DecoderRecord } : {}),
    unsure: o.unsure ?? DEFAULT_UNSURE,
    headThreshold: head,
    unsureP: DEFAULT_UNSURE_P,
    rule: map ? "both" : "oneclass",
    maxTilesPerSide: DEFAULT_MAX_TILES,
    provenance: {
      ...(mapRun
        ? {
          mapRun: mapName,
          trainedOn: renderersName(mapRun.config),
          dataset: mapRun.config.dataset.root,
          enet: mapRun.config.enet,
          map: {
            protocol: mapRun.config.protocol,
            train: mapRun.config.train,
            seed: mapRun.config.seed,
          },
        }
        : { dataset: info.config.dataset?.root }),
      oneclassRun: oneclass,
      oneclass: {
        kind: oc.kind,
        features: info.config.features,
        settings: info.config.settings,
        threshold: info.config.threshold,
      },
      summary,
    },
  });
}

/**
 * A detector that keeps another detector's head (its map, p(CG) threshold and preprocessing)
 * and takes a one-class model fitted apart from any map: a run of its own (`runs/<oneclass>`,
 * `train-oneclass --data`, whole-image features), whose features read each image as that run
 * read its photographs (`preprocess.oneClass`). The verdict rule is `rule` (default: the head
 * detector's). Its provenance names both.
 *
 * @example The shipped head with a profile Gaussian fitted on the shipped photographs
 * ```ts
 * import { detectorWithHead } from "./mod.ts";
 * import { trainOneClass } from "../oneclass/mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * await initBackend("auto");
 * const runs = await Deno.makeTempDir();
 * await trainOneClass({ data: "dataset", runs, name: "p", features: "profile", oneclass: "gauss", progress: makeProgress({ quiet: true }) });
 * const det = await detectorWithHead(new URL("../../models/cgbench-small/", import.meta.url).pathname, runs, "p");
 * console.log(det.info.features, det.info.preprocess); // profile { jpeg: 75, oneClass: {} }
 * det.dispose();
 * ```
 */
export async function detectorWithHead(
  head: string,
  runs: string,
  oneclass: string,
  o: { unsure?: number; rule?: VerdictRule } = {},
): Promise<Detector> {
  const withHead = await loadDetector(head);
  let own: Detector | undefined;
  try {
    if (!withHead.map) {
      throw new ModelError(
        `${head}: ` +
          (withHead.featureHead
            ? "its head reads whole-image features: give its train-head run with --linear-head"
            : "a detector without an image map has no head"),
      );
    }
    own = await detectorFromRun(runs, undefined, oneclass, { unsure: o.unsure });
    const rule = o.rule ?? withHead.info.rule;
    if (!VERDICT_RULES.includes(rule)) throw new ModelError(`unknown verdict rule ${rule}`);
    // the decoder recorded is the one-class model's (the head's is not what scores need)
    // nor is the head's unsure band: it is sized on another one-class model
    const { decoder: _headDecoder, unsureShare: _headShare, ...h } = withHead.info;
    const oc = own.info;
    const det = new Detector(withHead.map, own.oneClass, {
      ...h,
      format: DETECTOR_FORMAT,
      name: `head of ${h.name} + ${oc.name}`,
      features: oc.features,
      preprocess: {
        ...(h.preprocess.jpeg ? { jpeg: h.preprocess.jpeg } : {}),
        oneClass: oc.preprocess,
      },
      ...(oc.decoder ? { decoder: oc.decoder } : {}),
      unsure: o.unsure ?? DEFAULT_UNSURE,
      rule,
      provenance: {
        head: { detector: head, name: h.name, ...h.provenance },
        oneclass: oc.provenance,
      },
    });
    withHead.oneClass.dispose(); // the head's own one-class model is not kept
    return det;
  } catch (e) {
    withHead.dispose();
    own?.dispose();
    throw e;
  }
}

/**
 * A detector whose head reads whole-image features, linear or RBF-kernel (`train-head`'s run
 * folder, its `head.json`), and whose one-class model is a run of its own (`runs/<oneclass>`,
 * `train-oneclass --data`: whole-image features). The head's threshold and natural reference
 * become the detector's (`headThreshold`), so every rule, the fused score included, reads it as
 * it reads a map's.
 * The verdict rule is `rule` (default {@link DEFAULT_LINEAR_RULE}).
 *
 * @example A linear head on residual features with a profile Gaussian, both on `dataset/`
 * ```ts
 * import { detectorWithLinearHead } from "./mod.ts";
 * import { trainHead } from "../head/mod.ts";
 * import { trainOneClass } from "../oneclass/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir(), quiet = makeProgress({ quiet: true });
 * const { dir } = await trainHead({ natural: "dataset", renders: "dataset", features: "residual", runs, progress: quiet });
 * await trainOneClass({ data: "dataset", runs, name: "p", features: "profile", oneclass: "gauss", progress: quiet });
 * const det = await detectorWithLinearHead(dir, runs, "p", { rule: "fused" });
 * console.log(det.info.head, det.headAt === det.featureHead!.threshold); // { kind: "linear", features: "residual" } true
 * det.dispose();
 * ```
 */
export async function detectorWithLinearHead(
  headRun: string,
  runs: string,
  oneclass: string,
  o: { unsure?: number; rule?: VerdictRule } = {},
): Promise<Detector> {
  const file = join(headRun, HEAD_FILE);
  if (!await exists(file)) {
    throw new CgvsniError(`${file}: no trained head (train-head first)`);
  }
  const { head } = await readFeatureHead(headRun);
  const p = head.provenance ?? {};
  const features = p.features as FeatureSource;
  if (!FEATURE_SOURCES.includes(features) || needsMap(features)) {
    throw new ModelError(`${file}: its provenance names no whole-image feature source`);
  }
  const rule = o.rule ?? DEFAULT_LINEAR_RULE;
  if (!VERDICT_RULES.includes(rule)) throw new ModelError(`unknown verdict rule ${rule}`);
  const own = await detectorFromRun(runs, undefined, oneclass, { unsure: o.unsure });
  const oc = own.info;
  const jpeg = p.matchCompression as number | undefined;
  try {
    return new Detector(undefined, own.oneClass, {
      format: DETECTOR_FORMAT,
      name: `${headModel(head)} head ${basename(resolve(headRun))} + ${oc.name}`,
      renderers:
        (p.renderers as ClassRef[] | undefined)?.map(({ label, name }) => ({ label, name })) ??
          [],
      features: oc.features,
      preprocess: { oneClass: oc.preprocess },
      ...(oc.decoder ? { decoder: oc.decoder } : {}),
      unsure: o.unsure ?? DEFAULT_UNSURE,
      headThreshold: {
        value: head.threshold,
        nu: head.nu,
        from: "out-of-fold p(CG) of the head's training photographs (folds of whole sources)",
        n: head.reference.length,
        tiles: 0,
        reference: head.reference,
      },
      unsureP: DEFAULT_UNSURE_P,
      rule,
      maxTilesPerSide: DEFAULT_MAX_TILES,
      head: { kind: headModel(head), features, ...(jpeg ? { jpeg } : {}) },
      provenance: { head: { run: headRun, ...p }, oneclass: oc.provenance },
    }, head);
  } catch (e) {
    own.dispose();
    throw e;
  }
}

/** The rule of a detector with a head on whole-image features unless told another. */
export const DEFAULT_LINEAR_RULE: VerdictRule = "head";
