/**
 * Leave one source out (LOSO): how the one-class stage does on photographs of a source it never
 * saw, the case of a user's own camera. For each photograph source S of a natural corpus (`Group`
 * of its dataset.csv), a one-class model is fitted on every other source's photographs (threshold
 * from them alone), then scores S and every render of a labelled dataset (never fitted on):
 *
 * - natural recall on S: the share of S's photographs not flagged (score ≤ 0, every check passed);
 * - unsure on S: the share called "unsure" (in the one-class band, or failing a check);
 * - AUC of S's photographs against each renderer.
 *
 * Sources of at least `minImages` photographs make the summary: mean, and worst. Whole-image
 * features only; `a+b` fuses sources ({@link fusedParts}). Thresholds as each model sets them, or
 * as `threshold` says (`cv-source`: folds of whole sources).
 *
 * With `naturalCopies` (a perturbation spec), each fit also takes a processed copy of each of its
 * photographs, in that photograph's source and fold, never scored as a held-out photograph.
 *
 * With a head, the verdict a user reads too, under every rule (`both`, `fused`, `head`,
 * `oneclass`): a detector's (`head`: its map's p(CG), computed once; not fitted again, so the
 * data must be new to its map), or a head fitted again for each held-out source and renderer
 * (`headModel`: on the photographs the one-class model is fitted on, against the other renderers).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { UsageError } from "../core/errors.ts";
import { atomicWrite, exists, writeJson } from "../core/files.ts";
import { makeProgress, type Progress, ticker } from "../core/progress.ts";
import { DEFAULT_NU, mean } from "../core/stats.ts";
import { ImageStore } from "../data/cache.ts";
import { checkPerturbation, formatPerturbation, parsePerturbation } from "../data/perturb.ts";
import { type Dataset, loadDataset } from "../data/dataset.ts";
import { photographsAndRenders } from "../data/samples.ts";
import { formatCsv } from "../data/csv.ts";
import type { SplitEntry } from "../data/split.ts";
import {
  checkUnsureShare,
  DEFAULT_UNSURE,
  DEFAULT_UNSURE_P,
  Detector,
  DETECTOR_FORMAT,
  type DetectorInfo,
  loadDetector,
  type Verdict,
  type VerdictRule,
} from "../detect/detector.ts";
import { adoptFeatures, cachedSamples, extractFeatures } from "../features/extract.ts";
import { FEATURE_SOURCES, type FeatureSource, needsMap } from "../features/sources.ts";
import {
  type FeatureHead,
  HEAD_MODELS,
  type HeadModel,
  headModel,
  makeHead,
} from "../head/heads.ts";
import { type OneClassKind, rows as rowsAt } from "../oneclass/estimator.ts";
import { type AnyOptions, createOneClass } from "../oneclass/io.ts";
import { MIN_SIDE, resolveSettings } from "../oneclass/train.ts";
import { Rng } from "../core/rng.ts";
import { checkRunName, DEFAULT_RUNS, ensureDir } from "../runs/folder.ts";
import { rocAuc } from "./metrics.ts";

/**
 * How the LOSO fits set their threshold: as each model does when trained (`model`: `cv` for the
 * Gaussian and k-NN, `train` for the SVDD models), out-of-fold over images (`cv`), out-of-fold
 * over whole sources (`cv-source`), or from the training scores (`train`).
 */
export type LosoThreshold = "model" | "cv" | "cv-source" | "train";

/** The values of {@link LosoThreshold}. */
export const LOSO_THRESHOLDS: readonly LosoThreshold[] = ["model", "cv", "cv-source", "train"];

/**
 * How the photographs of each fit are weighed: `none` (each counts once), `threshold` (each
 * weighs one over its source's photographs in the fit in the threshold's quantile, so that every
 * source counts alike there), `source` (so in the fit too: the Gaussian's mean and covariance), or
 * `fit` (in the fit only: the threshold the unweighted quantile, as under `none`).
 */
export type LosoBalance = "none" | "threshold" | "source" | "fit";

/** The values of {@link LosoBalance}. */
export const LOSO_BALANCES: readonly LosoBalance[] = ["none", "threshold", "source", "fit"];

/** The protocol's defaults. */
export const LOSO_DEFAULTS = {
  name: "loso",
  features: ["residual"] as LosoFeatures[],
  kinds: ["gauss", "knn", "flow"] as OneClassKind[],
  minImages: 10,
  threshold: "model" as LosoThreshold,
  heldOut: "all" as "all" | "big",
  balance: "none" as LosoBalance,
};

/**
 * A LOSO feature entry: one whole-image source (`profile`), or several joined by `+`
 * (`profile+mobilenet`): fused, each image's vectors side by side. The Gaussian then fits one
 * part per source, each scaled by its own (1 − ν) quantile, and an image is as far out as its
 * farthest part (lib/oneclass/gauss.ts, "Parts": a score-level fusion in which 81 numbers count
 * as much as 1,000); k-NN and the flow read the joined vectors. Inside a fusion `residual` is one
 * part (its slope check is its own Gaussian's only when it stands alone).
 */
export type LosoFeatures = FeatureSource | `${FeatureSource}+${string}`;

/**
 * The sources of a LOSO feature entry, each checked: whole-image, known, not repeated.
 *
 * @example
 * ```ts
 * import { fusedParts } from "./loso.ts";
 * console.log(fusedParts("profile+mobilenet")); // ["profile", "mobilenet"]
 * ```
 */
export function fusedParts(entry: string): FeatureSource[] {
  const parts = entry.split("+").map((s) => s.trim());
  for (const p of parts) {
    if (!(FEATURE_SOURCES as readonly string[]).includes(p) || needsMap(p as FeatureSource)) {
      throw new UsageError(`LOSO takes whole-image features (${WHOLE}), not ${p || "nothing"}`);
    }
  }
  if (new Set(parts).size !== parts.length) {
    throw new UsageError(`${entry}: a source fused with itself`);
  }
  return parts as FeatureSource[];
}

/** The whole-image sources, for messages. */
const WHOLE = FEATURE_SOURCES.filter((s) => !needsMap(s)).join(", ");

/** Options of {@link loso}. */
export interface LosoOptions {
  /** The natural corpus (a dataset folder of photographs, `Group` = source). */
  natural: string;
  /** Another CSV for `natural`. */
  naturalCsv?: string;
  /** A dataset folder whose renders (labels 1..K) are scored against each held-out source. */
  renders: string;
  /** Another CSV for `renders`. */
  rendersCsv?: string;
  /** Whole-image feature sources compared, or fusions of them (default `residual`). */
  features?: LosoFeatures[];
  /** One-class models compared (default gauss, knn, flow). */
  kinds?: OneClassKind[];
  /** Settings of the models (each reads its own), as `train-oneclass` takes them. */
  settings?: AnyOptions;
  /** How the threshold is set (default `model`: each model's own). */
  threshold?: LosoThreshold;
  /** ν (default 0.05). */
  nu?: number;
  /** Unsure band, a fraction of |threshold| (default: the detector's). */
  unsure?: number;
  /** Size the unsure band on the photographs instead (`DetectorInfo.unsureShare`). */
  unsureShare?: number;
  /** How each fit weighs its photographs' sources (default `none`; see {@link LosoBalance}). */
  balance?: LosoBalance;
  /** Sources with fewer photographs are held out too, but left out of mean and worst (10). */
  minImages?: number;
  /**
   * Which sources are held out: `all` (default), or only those of at least `minImages`
   * photographs (`big`: the summary is the same, in a fraction of the time; the small sources
   * are then always fitted on).
   */
  heldOut?: "all" | "big";
  /**
   * Fit each held-out source's model on only this many of the other sources of at least
   * `minImages` photographs, drawn at random (seeded by `seed` and the source): the learning
   * curve over sources. Default: every other source, small ones too.
   */
  trainSources?: number;
  /**
   * Fit on only this many of the other sources' photographs, drawn at random (after
   * `trainSources`): the learning curve over photographs. Default: all of them.
   */
  trainImages?: number;
  /**
   * Other runs' feature caches (their `features` folders; one folder as a string is read as a
   * list of one), to reuse: every list of the same definition in them is offered image by image
   * (`adoptFeatures`, as `train-head` does); a list is assembled from them when they hold every
   * image of it, else computed. Images are matched by name and file fingerprint.
   * Nothing is written there.
   */
  featureCache?: string | string[];
  /** Seed of the fits. */
  seed?: number;
  /**
   * Bring every image, photograph and render, down to this short side before its features
   * (`ImageStore`'s `shortSide`); none: each at its own size.
   */
  shortSide?: number;
  /**
   * Re-encode every image, photograph and render, as JPEG at this quality after any downscaling
   * (`--match-compression`, as the shipped detector does); none: as decoded.
   */
  matchCompression?: number;
  /**
   * A perturbation spec (`parsePerturbation`; strengths as ranges are drawn per photograph):
   * each fit also takes this processed copy of each photograph it fits (so `trainImages` N gives
   * 2N rows), in the photograph's source and fold; a copy is never scored as a held-out
   * photograph, but its out-of-fold score enters the threshold. None: no copies.
   */
  naturalCopies?: string;
  /**
   * A detector (folder or URL) whose head joins each held-out source's one-class model, to
   * measure every verdict rule (see the module documentation); none: the one-class stage alone.
   */
  head?: string;
  /**
   * A head fitted again for each held-out source and each renderer (`linear` or `rbf`, as
   * `train-head` fits them, its default C): on the photographs the one-class model is fitted on
   * (not their processed copies) against the renders of every other renderer, its threshold the
   * (1 − ν) quantile of those photographs' out-of-fold p(CG) (folds of whole sources, the renders
   * dealt over them). Then every verdict rule, as with `head`, and each renderer's AUC by the
   * head's p(CG) and by the fused score. Needs two renderers or more, and two sources in each fit
   * (three in the corpus; `trainSources` at least 2); not with `head`.
   */
  headModel?: HeadModel;
  /** The features that head reads (default: each configuration's own). */
  headFeatures?: LosoFeatures;
  /** Name of the results folder, `<runs>/<name>` (default `loso`). */
  name?: string;
  /** Parent folder (default `runs`). */
  runs?: string;
  /** Progress and log sink. */
  progress?: Progress;
}

/** One held-out source under one configuration. */
export interface LosoRow {
  /** The source held out. */
  source: string;
  /** Its photographs. */
  images: number;
  /** Share not flagged by the one-class stage. */
  recall: number;
  /** Share called "unsure". */
  unsure: number;
  /** AUC against each renderer, by name. */
  auc: Record<string, number>;
  /** Their mean. */
  meanAuc: number;
  /** The held-out source's model's threshold (absent in results written before it was kept). */
  threshold?: number;
  /**
   * What the held-out source's model calls each renderer's renders, as shares: computer-generated,
   * unsure or natural (`detect --rule oneclass`); absent in results written before it was kept.
   */
  calls?: Record<string, Calls>;
  /**
   * With a head: what each verdict rule calls the held-out photographs and each renderer's
   * renders.
   */
  rules?: Partial<Record<VerdictRule, { photos: Calls; renders: Record<string, Calls> }>>;
  /**
   * With a head fitted again ({@link LosoOptions.headModel}): its AUC against each renderer (the
   * head fitted without that renderer's renders), and the fused score's. With it, `rules` give
   * the photographs' shares as the mean over the heads (one a renderer held out).
   */
  refitted?: { headAuc: Record<string, number>; fusedAuc: Record<string, number> };
}

/** The verdict rules measured with a head, the detector's default first. */
export const LOSO_RULES: readonly VerdictRule[] = ["both", "fused", "head", "oneclass"];

/** A verdict rule over the sources in the summary ({@link LosoCell.rules}). */
export interface RuleSummary {
  /** Mean share of a held-out source's photographs called natural. */
  natural: number;
  /** The lowest such share. */
  worstNatural: number;
  /** Mean share of them called unsure. */
  unsure: number;
  /** The highest such share. */
  worstUnsure: number;
  /** Mean share of them called computer-generated (false alarms). */
  cg: number;
  /** Per renderer, the mean shares of its renders called each. */
  renders: Record<string, Calls>;
}

/** Shares of images called computer-generated, unsure and natural (they sum to 1). */
export interface Calls {
  /** Called computer-generated. */
  cg: number;
  /** Called unsure. */
  unsure: number;
  /** Called natural. */
  natural: number;
}

/** One configuration (feature source × model) over every held-out source. */
export interface LosoCell {
  /** Feature source, or sources fused (`a+b`). */
  features: LosoFeatures;
  /** One-class model. */
  kind: OneClassKind;
  /** How its thresholds were set (`cv`, `cv-source` or `train`). */
  threshold: string;
  /** Every source. */
  rows: LosoRow[];
  /** Over the sources with at least `minImages` photographs. */
  mean: { recall: number; unsure: number; auc: number };
  /** The worst of them: lowest recall, highest unsure, lowest mean AUC. */
  worst: { recall: number; unsure: number; auc: number };
  /**
   * Per renderer, over the same sources: mean and lowest AUC, and the mean shares of its renders
   * called computer-generated, unsure and natural.
   */
  renderers?: Record<
    string,
    { auc: number; worstAuc: number; headAuc?: number; fusedAuc?: number } & Calls
  >;
  /** With a head: each verdict rule, over the same sources. */
  rules?: Partial<Record<VerdictRule, RuleSummary>>;
}

/**
 * What {@link loso} returns and writes (`results.json`, `results.md`; and `scores.csv`: every
 * held-out photograph's one-class score, raw minus its model's threshold, the checks it failed
 * and its call).
 */
export interface LosoResult {
  /** The corpus. */
  natural: string;
  /** The dataset whose renders were scored. */
  renders: string;
  /** Photographs per source. */
  sources: { name: string; images: number }[];
  /** Renders per renderer. */
  renderers: { name: string; images: number }[];
  /** How the thresholds were set. */
  threshold: LosoThreshold;
  /** ν. */
  nu: number;
  /** Unsure band, a fraction of |threshold|. */
  unsure: number;
  /** The unsure band sized on the photographs instead: this share of the natural reference. */
  unsureShare?: number;
  /** How each fit weighed its photographs' sources (absent: `none`). */
  balance?: LosoBalance;
  /** Smallest source in mean and worst. */
  minImages: number;
  /**
   * Which sources were held out: every one, or only those of at least `minImages` (`big`);
   * absent in results written before it was recorded (every one).
   */
  heldOut?: "all" | "big";
  /** The short side every image was brought down to, if any. */
  shortSide?: number;
  /** The JPEG quality every image was re-encoded at, if any. */
  matchCompression?: number;
  /** The processed copy of each photograph every fit also took, if any (a perturbation spec). */
  naturalCopies?: string;
  /** At most this many of the other sources in each fit, if limited. */
  trainSources?: number;
  /** At most this many photographs in each fit, if limited. */
  trainImages?: number;
  /** Seed of the fits (and of the subsets). */
  seed: number;
  /** The detector whose head joined the one-class models, if any. */
  head?: { detector: string; name: string; threshold: number };
  /** The head fitted again for each held-out source and renderer, if any. */
  headModel?: { model: HeadModel; features?: LosoFeatures };
  /** Every configuration. */
  cells: LosoCell[];
  /** Unreadable images left out. */
  skipped: string[];
}

/**
 * The rows a held-out source's model is fitted on: every other source's, or, for the learning
 * curve, `trainSources` of those sources (of the `big` ones) and then `trainImages` of their
 * photographs, drawn with a seeded shuffle (the same draw for every model and feature source).
 */
function fitRows(
  groupOf: number[],
  g: number,
  o: { trainSources?: number; trainImages?: number },
  seed: string,
  big: Set<number>,
): number[] {
  let rows = groupOf.map((x, i) => x === g ? -1 : i).filter((i) => i >= 0);
  if (o.trainSources) {
    const others = [...new Set(rows.map((i) => groupOf[i]))].filter((x) => big.has(x))
      .sort((a, b) => a - b);
    const kept = new Set(new Rng(`loso-sources:${seed}`).shuffle(others).slice(0, o.trainSources));
    rows = rows.filter((i) => kept.has(groupOf[i]));
  }
  if (o.trainImages && rows.length > o.trainImages) {
    rows = new Rng(`loso-images:${seed}`).shuffle(rows).slice(0, o.trainImages)
      .sort((a, b) => a - b);
  }
  return rows;
}

/**
 * A fused entry's model settings: the Gaussian one part per source (no PCA, no checks: those are
 * a single source's), the other models the settings as given.
 */
function fusedSettings(
  told: AnyOptions | undefined,
  kind: OneClassKind,
  parts: FeatureSource[],
  dims: number[],
): AnyOptions {
  if (kind !== "gauss") return { ...told };
  const { pca: _pca, checks: _checks, ...rest } = (told ?? {}) as AnyOptions & {
    pca?: number;
    checks?: string[];
  };
  return { ...rest, parts: dims, partNames: parts };
}

/**
 * Row-aligned feature sets side by side: each row the rows of every set, in order; `dims` is
 * each set's width.
 */
function sideBySide(
  sets: { data: Float32Array; n: number; dim: number }[],
): { data: Float32Array; n: number; dim: number; dims: number[] } {
  const dims = sets.map((f) => f.dim);
  if (sets.length === 1) return { ...sets[0], dims };
  const n = sets[0].n, dim = sets.reduce((a, f) => a + f.dim, 0);
  if (sets.some((f) => f.n !== n)) throw new Error("fused feature sets of different lengths");
  const data = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let at = i * dim;
    for (const f of sets) {
      data.set(f.data.subarray(i * f.dim, (i + 1) * f.dim), at);
      at += f.dim;
    }
  }
  return { data, n, dim, dims };
}

/** The shares of verdicts that are each verdict. */
function shares(vs: Verdict[]): Calls {
  const share = (v: Verdict) => vs.filter((x) => x === v).length / vs.length;
  return { cg: share("computer-generated"), unsure: share("unsure"), natural: share("natural") };
}

/**
 * Every image's head p(CG) from `det`'s map, as `detect` computes it: read from `file` where it
 * holds this map's, computed for the rest, and saved every 50 images, so that an interrupted run
 * keeps what it did.
 */
async function headScores(
  det: Detector,
  es: SplitEntry[],
  file: string,
  log: Progress,
): Promise<Float32Array> {
  const map = det.map!.sha;
  let pCg: Record<string, number> = {};
  if (await exists(file)) {
    const saved = JSON.parse(await Deno.readTextFile(file));
    if (saved?.map === map && saved.pCg && typeof saved.pCg === "object") pCg = saved.pCg;
  }
  const save = () => writeJson(file, { detector: det.info.name, map, pCg });
  const store = new ImageStore();
  const todo = es.filter((e) => typeof pCg[e.path] !== "number");
  log.start(`head p(CG) of ${det.info.name}`, todo.length);
  for (let i = 0; i < todo.length; i++) {
    const e = todo[i];
    pCg[e.path] = await det.headPCg(await store.uncached(e.path), { name: e.path });
    log.tick(1);
    if ((i + 1) % 50 === 0) await save();
  }
  if (todo.length) await save();
  log.end();
  return Float32Array.from(es, (e) => pCg[e.path]);
}

/** Smallest and largest, NaN for none (not ±Infinity). */
const min = (xs: number[]) => xs.length ? Math.min(...xs) : NaN;
const max = (xs: number[]) => xs.length ? Math.max(...xs) : NaN;

/**
 * Runs leave-one-source-out over a natural corpus (see the module documentation).
 *
 * @example Two sources of the shipped photographs, against the shipped renders
 * ```ts
 * import { loso } from "./mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const dir = await Deno.makeTempDir();
 * const photos = (await Deno.readTextFile("dataset/dataset.csv")).split("\n")
 *   .filter((l) => l.startsWith("Photos/")).slice(0, 24).map((l) => l.split(",")[0]);
 * const rows = photos.map((name, i) => `${name},0,${i % 2 ? "odd" : "even"}`);
 * await Deno.writeTextFile(`${dir}/photos.csv`, ["Name,Label,Group", ...rows].join("\n"));
 * const r = await loso({
 *   natural: "dataset", naturalCsv: `${dir}/photos.csv`, renders: "dataset", kinds: ["gauss"],
 *   runs: dir, progress: makeProgress({ quiet: true }),
 * });
 * console.log(r.cells[0].rows.map((x) => [x.source, x.images, x.recall])); // two held-out sources
 * ```
 */
export async function loso(o: LosoOptions): Promise<LosoResult & { dir: string }> {
  const headDet = o.head ? await loadDetector(o.head) : undefined;
  try {
    if (headDet && !headDet.map) {
      throw new UsageError(
        `--head ${o.head}: ` +
          (headDet.featureHead
            ? "a head on whole-image features is trained with renders, so it is measured fitted again with each renderer left out (--set head-model=linear|rbf), not by --head"
            : "a detector without an image map has no head"),
      );
    }
    return await losoWith(o, headDet);
  } finally {
    headDet?.dispose();
  }
}

/** {@link loso}, given its head's detector (loaded and disposed of there). */
async function losoWith(
  o: LosoOptions,
  headDet: Detector | undefined,
): Promise<LosoResult & { dir: string }> {
  const log = o.progress ?? makeProgress();
  const features = o.features ?? LOSO_DEFAULTS.features;
  const kinds = o.kinds ?? LOSO_DEFAULTS.kinds;
  const threshold = o.threshold ?? LOSO_DEFAULTS.threshold;
  const minImages = o.minImages ?? LOSO_DEFAULTS.minImages;
  const nu = o.nu ?? DEFAULT_NU, unsure = o.unsure ?? DEFAULT_UNSURE;
  const unsureShare = o.unsureShare;
  if (unsureShare !== undefined) checkUnsureShare(unsureShare, nu, "--unsure-share");
  const balance = o.balance ?? LOSO_DEFAULTS.balance;
  if (!LOSO_BALANCES.includes(balance)) {
    throw new UsageError(`balance must be ${LOSO_BALANCES.join(", ")}; got "${balance}"`);
  }
  const weighsFit = balance === "source" || balance === "fit";
  if (weighsFit && (kinds.some((k) => k !== "gauss") || o.settings?.pca)) {
    // refused before any feature is computed: only the Gaussian's fit weighs its rows
    throw new UsageError(
      `balance ${balance} weighs the fit: the Gaussian's only, without pca (balance threshold ` +
        "weighs any model's threshold)",
    );
  }
  const partsOf = new Map(features.map((f) => [f, fusedParts(f)]));
  const refitModel = o.headModel;
  if (refitModel !== undefined) {
    if (!HEAD_MODELS.includes(refitModel)) {
      throw new UsageError(`head-model must be ${HEAD_MODELS.join(", ")}; got "${refitModel}"`);
    }
    if (headDet) throw new UsageError("head and head-model are two heads: give one of them");
    if (o.trainSources !== undefined && o.trainSources < 2) {
      throw new UsageError(
        "head-model sets each head's threshold out of fold over whole sources: it needs " +
          "train-sources of at least 2",
      );
    }
  } else if (o.headFeatures) throw new UsageError("head-features needs head-model");
  if (o.headFeatures) partsOf.set(o.headFeatures, fusedParts(o.headFeatures));
  if (!LOSO_THRESHOLDS.includes(threshold)) {
    throw new UsageError(`threshold must be ${LOSO_THRESHOLDS.join(", ")}; got "${threshold}"`);
  }
  if (threshold === "cv-source" && o.trainSources && o.trainSources < 2) {
    throw new UsageError(
      "threshold cv-source folds whole training sources: it needs train-sources of at least 2",
    );
  }
  const copies = o.naturalCopies ? parsePerturbation(o.naturalCopies) : undefined; // checked first
  if (copies) await checkPerturbation(copies);
  const dir = join(resolve(o.runs ?? DEFAULT_RUNS), checkRunName(o.name ?? LOSO_DEFAULTS.name));
  const caches = typeof o.featureCache === "string" ? [o.featureCache] : o.featureCache ?? [];
  for (const c of caches) {
    const st = await Deno.stat(c).catch(() => undefined);
    if (!st?.isDirectory) throw new UsageError(`--feature-cache ${c}: no such folder`);
  }
  await ensureDir(dir);
  const nat = await loadDataset(o.natural, { csv: o.naturalCsv, naturalOnly: true });
  const ren = await loadDataset(o.renders, { csv: o.rendersCsv, rendersOnly: true });
  if (refitModel && ren.classes.filter((c) => c.label > 0).length < 2) {
    throw new UsageError(
      `head-model holds one renderer out at a time: ${o.renders} has fewer than two renderers`,
    );
  }
  const shortSide = o.shortSide, jpegQuality = o.matchCompression;
  // how every image is read (and, with a perturbation first, each processed copy)
  const reading = { ...(shortSide ? { shortSide } : {}), ...(jpegQuality ? { jpegQuality } : {}) };
  const store = new ImageStore({ dir: join(dir, ".cache"), ...reading });
  const cacheDir = join(dir, "features");
  // other runs' vectors of the same definition, offered image by image (each source once)
  const allParts = [...new Set([...partsOf.values()].flat())];
  if (caches.length) {
    for (const source of allParts) {
      const k = await adoptFeatures(caches, cacheDir, { source, store });
      log.log(
        `${source}: ${k} cached list(s) of ${caches.join(", ")} of the same definition ` +
          `(source, pixels, decoder, JPEG re-encoding) offered image by image`,
      );
    }
  }
  // with a head, an image must also take its crop (else it is skipped, named, like any other)
  const side = Math.max(MIN_SIDE, headDet?.crop ?? 0);
  const vouched = side === MIN_SIDE && (!shortSide || shortSide >= side)
    ? await decodedBefore([nat, ren], cacheDir, allParts, store)
    : undefined;
  if (vouched?.size) {
    log.log(
      `${vouched.size} image(s) with every source's vectors cached from the same file: ` +
        `checked from their headers (decoded only where that fails)`,
    );
  }
  const { photos, renders, skipped } = await photographsAndRenders(nat, ren, store, side, {
    run: dir,
    log,
    role: "test",
    ...(vouched ? { vouched } : {}),
  });
  const groups = [...new Set(photos.map((e) => e.group))].sort();
  if (refitModel && groups.length < 3) {
    throw new UsageError(
      `head-model sets each head's threshold out of fold over whole sources: each fit needs two ` +
        `of them, and ${o.natural} has ${groups.length}`,
    );
  }
  const groupOf = photos.map((e) => groups.indexOf(e.group));
  const bigSources = new Set(
    groups.map((name, i) => [name, i] as const)
      .filter(([name]) => photos.filter((e) => e.group === name).length >= minImages)
      .map(([, i]) => i),
  );
  const rendererNames = ren.classes.filter((c) => c.label > 0).map((c) => c.name);
  const result: LosoResult = {
    natural: nat.root,
    renders: ren.root,
    sources: groups.map((name) => ({
      name,
      images: photos.filter((e) => e.group === name).length,
    })),
    renderers: rendererNames.map((name) => ({
      name,
      images:
        renders.filter((e) => ren.classes.find((c) => c.label === e.label)!.name === name).length,
    })),
    threshold,
    nu,
    unsure,
    ...(unsureShare !== undefined ? { unsureShare } : {}),
    ...(balance !== "none" ? { balance } : {}),
    minImages,
    heldOut: o.heldOut ?? LOSO_DEFAULTS.heldOut,
    ...(shortSide ? { shortSide } : {}),
    ...(jpegQuality ? { matchCompression: jpegQuality } : {}),
    ...(copies ? { naturalCopies: formatPerturbation(copies) } : {}),
    ...(o.trainSources ? { trainSources: o.trainSources } : {}),
    ...(o.trainImages ? { trainImages: o.trainImages } : {}),
    seed: o.seed ?? 0,
    ...(headDet
      ? { head: { detector: o.head!, name: headDet.info.name, threshold: headDet.headAt } }
      : {}),
    ...(refitModel
      ? {
        headModel: { model: refitModel, ...(o.headFeatures ? { features: o.headFeatures } : {}) },
      }
      : {}),
    cells: [],
    skipped,
  };
  // each held-out photograph's score and call, for reading a failure image by image
  const scoreRows: (string | number)[][] = [];
  // written after each configuration, so that a long run's finished part is never lost
  const save = async () => {
    await writeJson(join(dir, "results.json"), result);
    await atomicWrite(join(dir, "results.md"), losoMarkdown(result));
    await atomicWrite(
      join(dir, "scores.csv"),
      formatCsv(["features", "model", "source", "image", "score", "checks", "call"], scoreRows),
    );
  };
  const rendererOf = renders.map((e) => ren.classes.find((c) => c.label === e.label)!.name);
  const byRenderer = new Map(
    rendererNames.map((r) => [r, rendererOf.flatMap((x, i) => x === r ? [i] : [])]),
  );
  let headP: { photos: Float32Array; renders: Float32Array } | undefined;
  if (headDet) {
    await ensureDir(cacheDir);
    // keyed by what the p(CG) depend on: the map, its preparation and its tiling
    const q = headDet.info.preprocess.jpeg ?? 0, tiles = headDet.info.maxTilesPerSide;
    const key = `head-${headDet.map!.sha.slice(0, 16)}-q${q}-t${tiles}.json`;
    const file = join(cacheDir, key);
    for (const c of caches) {
      if (await exists(file)) break;
      if (await exists(join(c, key))) await Deno.copyFile(join(c, key), file); // keyed by the map
    }
    const all = await headScores(headDet, [...photos, ...renders], file, log);
    headP = { photos: all.subarray(0, photos.length), renders: all.subarray(photos.length) };
  }
  // each source's vectors, computed (or read from the cache) once whatever fuses them
  const computed = new Map<string, Promise<{ data: Float32Array; n: number; dim: number }>>();
  // the processed copies: the same photographs through the perturbation, then as `store` reads
  const copyStore = copies && new ImageStore({ perturbation: copies, ...reading });
  const vectors = (es: SplitEntry[], key: string, source: FeatureSource, from = store) => {
    const id = `${key}-${source}`;
    if (!computed.has(id)) {
      computed.set(
        id,
        (async () => {
          log.start(`${source} features (${key})`, es.length);
          const f = await extractFeatures({
            source,
            samples: es.map((entry) => ({ entry, tile: 0 })),
            store: from,
            view: { kind: "full" },
            cache: { dir: cacheDir, key: id },
            onBatch: ticker(log),
          });
          log.end();
          if (f.cached) log.log(`${id}: ${f.n} vectors from the cache, none computed`);
          return f;
        })(),
      );
    }
    return computed.get(id)!;
  };
  /** An entry's vectors of some images: its sources' vectors side by side. */
  const joinedOf = (entry: LosoFeatures) => async (es: SplitEntry[], key: string, from = store) => {
    const sets = [];
    for (const p of partsOf.get(entry)!) sets.push(await vectors(es, key, p, from));
    return sideBySide(sets);
  };
  // the heads fitted again, by the features they read and the held-out source (the same rows
  // whatever the one-class model)
  const refitted = new Map<string, Map<string, RefittedHead>>();
  for (const source of features) {
    const parts = partsOf.get(source)!;
    const joined = joinedOf(source);
    const nf = await joined(photos, "natural"), rf = await joined(renders, "renders");
    const headOn = refitModel ? o.headFeatures ?? source : undefined;
    // the heads of another configuration's features are not used again
    for (const k of refitted.keys()) if (!k.startsWith(`${headOn}\0`)) refitted.delete(k);
    const hv = headOn === undefined ? undefined : headOn === source ? { nat: nf, ren: rf } : {
      nat: await joinedOf(headOn)(photos, "natural"),
      ren: await joinedOf(headOn)(renders, "renders"),
    };
    const d = nf.dim, n = nf.n;
    // rows 0..n-1 the photographs, n..2n-1 their copies (row i + n the copy of row i)
    let rowsData = nf.data;
    if (copyStore) {
      const cf = await joined(photos, "natural-copies", copyStore);
      if (cf.n !== n || cf.dim !== d) {
        throw new Error("the copies' vectors do not match the photographs'");
      }
      rowsData = new Float32Array(2 * n * d);
      rowsData.set(nf.data);
      rowsData.set(cf.data, n * d);
    }
    for (const kind of kinds) {
      log.start(`LOSO: ${kind} on ${source}`, groups.length);
      const rows: LosoRow[] = [];
      let thresholdOf: string | undefined;
      for (let g = 0; g < groups.length; g++) {
        log.tick(1, groups[g]);
        if (o.heldOut === "big" && result.sources[g].images < minImages) continue;
        const originals = fitRows(groupOf, g, o, `${o.seed ?? 0}:${groups[g]}`, bigSources);
        const fit = copyStore ? [...originals, ...originals.map((i) => i + n)] : originals;
        const held = groupOf.map((x, i) => x === g ? i : -1).filter((i) => i >= 0);
        const pick = (idx: number[]) => rowsAt(rowsData, d, idx);
        const est = createOneClass(kind, {
          ...(parts.length > 1
            ? fusedSettings(o.settings, kind, parts, nf.dims)
            : resolveSettings(o.settings, parts[0], kind)),
          nu,
          ...(threshold === "model" ? {} : { threshold: threshold === "train" ? "train" : "cv" }),
          seed: o.seed ?? 0,
        });
        // each row weighs one over its source's rows in the fit (a copy counts with its source)
        const weights = balance === "none"
          ? undefined
          : sourceWeights(fit.map((i) => groupOf[i % n]));
        try {
          await est.fit(pick(fit), fit.length, d, {
            ...(weighsFit ? { weights } : {}),
            ...(balance === "threshold" || balance === "source"
              ? { thresholdWeights: weights }
              : {}),
            // a photograph and its copy in one fold: by source, or (copies, folds of images) by
            // photograph, so that no out-of-fold score comes from a model fitted on its twin
            ...(threshold === "cv-source"
              ? { foldGroups: fit.map((i) => groupOf[i % n]) }
              : copyStore
              ? { foldGroups: fit.map((i) => i % n) }
              : {}),
          });
          thresholdOf = threshold === "cv-source" ? threshold : est.thresholdFrom;
          const det = new Detector(undefined, est, {
            format: DETECTOR_FORMAT,
            name: `loso-${groups[g]}`,
            renderers: [],
            features: parts[0], // not read: the vectors are given to judge
            preprocess: {},
            unsure,
            ...(unsureShare !== undefined ? { unsureShare } : {}),
            unsureP: 0,
            rule: "oneclass",
            maxTilesPerSide: 1,
            headThreshold: { value: 0.5, nu: 0, from: "none", n: 0, tiles: 0, reference: [] },
          });
          const judge = async (x: Float32Array, n: number) =>
            await det.judge({
              images: n,
              vectors: { data: x, n, dim: d, image: Array.from({ length: n }, (_, i) => i) },
            });
          const photo = await judge(pick(held), held.length);
          photo.forEach((j, k) => {
            scoreRows.push([
              source,
              kind,
              groups[g],
              photos[held[k]].name,
              j.score,
              j.checks.join(";"),
              j.verdict,
            ]);
          });
          const cg = await judge(rf.data, rf.n);
          const auc: Record<string, number> = {};
          const calls: Record<string, Calls> = {};
          for (const r of rendererNames) {
            const mine = byRenderer.get(r)!.map((i) => cg[i]);
            auc[r] = rocAuc(
              [...photo.map((j) => j.score), ...mine.map((j) => j.score)],
              [...photo.map(() => 0), ...mine.map(() => 1)],
            );
            calls[r] = shares(mine.map((j) => j.verdict));
          }
          // every rule: the held-out source's model with the head, judged as detect judges
          const rules: LosoRow["rules"] = {};
          let again: LosoRow["refitted"];
          if (refitModel && hv) {
            const key = `${headOn}\0${g}`;
            if (!refitted.has(key)) {
              refitted.set(
                key,
                refitHeads(refitModel, hv, {
                  fit: originals,
                  held,
                  groupOf,
                  byRenderer,
                  nu,
                  seed: o.seed ?? 0,
                }),
              );
            }
            const heads = refitted.get(key)!;
            again = { headAuc: {}, fusedAuc: {} };
            const photoScores = photo.map((j) => j.score);
            for (const rule of LOSO_RULES) {
              const perRenderer = rendererNames.map((r) => {
                const h = heads.get(r)!, idx = byRenderer.get(r)!;
                const by = new Detector(
                  undefined,
                  est,
                  refittedInfo(h.head, rule, partsOf.get(headOn!)![0], {
                    unsure,
                    unsureShare,
                    nu,
                  }),
                  h.head,
                );
                const say = (js: typeof cg, p: Float64Array) =>
                  shares(js.map((j, k) => by.verdict(p[k], j.score, j.checks)));
                if (rule === "fused") {
                  const labels = [...photo.map(() => 0), ...idx.map(() => 1)];
                  again!.headAuc[r] = rocAuc([...h.photos, ...h.renders], labels);
                  const fused = (p: Float64Array, sc: number[]) =>
                    sc.map((x, k) => by.fused(p[k], x)!);
                  // no fused score without both stages' references: no AUC ("–"), not a rank
                  again!.fusedAuc[r] = by.fuses
                    ? rocAuc([
                      ...fused(h.photos, photoScores),
                      ...fused(h.renders, idx.map((i) => cg[i].score)),
                    ], labels)
                    : NaN;
                }
                return {
                  photos: say(photo, h.photos),
                  renders: say(idx.map((i) => cg[i]), h.renders),
                };
              });
              const avg = (k: keyof Calls) => mean(perRenderer.map((x) => x.photos[k]));
              rules[rule] = {
                photos: { cg: avg("cg"), unsure: avg("unsure"), natural: avg("natural") },
                renders: Object.fromEntries(
                  rendererNames.map((r, i) => [r, perRenderer[i].renders]),
                ),
              };
            }
          }
          if (headDet && headP) {
            for (const rule of LOSO_RULES) {
              const by = new Detector(headDet.map, est, {
                ...headDet.info,
                unsure,
                unsureShare,
                rule,
              });
              const say = (js: typeof cg, idx: number[], p: Float32Array) =>
                shares(idx.map((i, k) => by.verdict(p[i], js[k].score, js[k].checks)));
              rules[rule] = {
                photos: say(photo, held, headP.photos),
                renders: Object.fromEntries(rendererNames.map((r) => {
                  const idx = byRenderer.get(r)!;
                  return [r, say(idx.map((i) => cg[i]), idx, headP!.renders)];
                })),
              };
            }
          }
          rows.push({
            source: groups[g],
            images: held.length,
            recall: photo.filter((j) => j.score <= 0 && !j.checks.length).length / held.length,
            unsure: photo.filter((j) => j.verdict === "unsure").length / held.length,
            auc,
            meanAuc: mean(Object.values(auc)),
            threshold: est.threshold,
            calls,
            ...(headDet || refitModel ? { rules } : {}),
            ...(again ? { refitted: again } : {}),
          });
        } finally {
          est.dispose();
        }
      }
      log.end();
      const big = rows.filter((r) => r.images >= minImages);
      result.cells.push({
        features: source,
        kind,
        threshold: thresholdOf ?? threshold,
        rows,
        mean: {
          recall: mean(big.map((r) => r.recall)),
          unsure: mean(big.map((r) => r.unsure)),
          auc: mean(big.map((r) => r.meanAuc)),
        },
        worst: {
          recall: min(big.map((r) => r.recall)),
          unsure: max(big.map((r) => r.unsure)),
          auc: min(big.map((r) => r.meanAuc)),
        },
        renderers: Object.fromEntries(rendererNames.map((name) => {
          const of = (k: keyof Calls) => mean(big.map((r) => r.calls![name][k]));
          return [name, {
            auc: mean(big.map((r) => r.auc[name])),
            worstAuc: min(big.map((r) => r.auc[name])),
            ...(refitModel
              ? {
                headAuc: mean(big.map((r) => r.refitted!.headAuc[name])),
                fusedAuc: mean(big.map((r) => r.refitted!.fusedAuc[name])),
              }
              : {}),
            cg: of("cg"),
            unsure: of("unsure"),
            natural: of("natural"),
          }];
        })),
        ...(headDet || refitModel ? { rules: ruleSummaries(big, rendererNames) } : {}),
      });
      await save();
    }
  }
  return { ...result, dir };
}

/** A head fitted without one renderer, and its p(CG) of the held-out photographs and of those renders. */
interface RefittedHead {
  head: FeatureHead;
  photos: Float64Array;
  renders: Float64Array;
}

/**
 * For one held-out source, each renderer's head ({@link LosoOptions.headModel}): fitted on the
 * photographs `fit` against the renders of every other renderer, then its p(CG) of the held-out
 * photographs `held` and of that renderer's renders.
 */
function refitHeads(
  model: HeadModel,
  v: { nat: { data: Float32Array; dim: number }; ren: { data: Float32Array; dim: number } },
  o: {
    fit: number[];
    held: number[];
    groupOf: number[];
    byRenderer: Map<string, number[]>;
    nu: number;
    seed: number;
  },
): Map<string, RefittedHead> {
  const d = v.nat.dim;
  const rows = (from: Float32Array, idx: number[]) => rowsAt(from, d, idx);
  // the renders dealt over the fit's sources, so that every fold of the head's threshold holds
  // photographs and renders (a fold of renders alone, or of every photograph, scores none)
  const sources = [...new Set(o.fit.map((i) => o.groupOf[i]))].sort((a, b) => a - b);
  const out = new Map<string, RefittedHead>();
  for (const [name, mine] of o.byRenderer) {
    const others = [...o.byRenderer].filter(([r]) => r !== name).flatMap(([, idx]) => idx);
    const n = o.fit.length + others.length;
    const x = new Float32Array(n * d);
    x.set(rows(v.nat.data, o.fit));
    x.set(rows(v.ren.data, others), o.fit.length * d);
    const y = Array.from({ length: n }, (_, i) => i < o.fit.length ? 0 : 1);
    const groups = [
      ...o.fit.map((i) => o.groupOf[i]),
      ...others.map((_, k) => sources[k % sources.length]),
    ];
    const head = makeHead(model, { nu: o.nu, seed: o.seed }).fit(x, n, d, y, groups);
    out.set(name, {
      head,
      photos: head.pCg(rows(v.nat.data, o.held), o.held.length),
      renders: head.pCg(rows(v.ren.data, mine), mine.length),
    });
  }
  return out;
}

/**
 * A detector's settings for one held-out source's one-class model with a head fitted again: its
 * threshold and out-of-fold reference, the head's band as `detect`'s default, and `rule`. (`head`
 * names the first of the features it reads: the verdict is given the p(CG), never the image.)
 */
function refittedInfo(
  head: FeatureHead,
  rule: VerdictRule,
  features: FeatureSource,
  o: { unsure: number; unsureShare?: number; nu: number },
): DetectorInfo {
  return {
    format: DETECTOR_FORMAT,
    name: "loso-refitted-head",
    renderers: [],
    features,
    preprocess: {},
    unsure: o.unsure,
    ...(o.unsureShare !== undefined ? { unsureShare: o.unsureShare } : {}),
    unsureP: DEFAULT_UNSURE_P,
    rule,
    maxTilesPerSide: 1,
    head: { kind: headModel(head), features },
    headThreshold: {
      value: head.threshold,
      nu: o.nu,
      from: "out-of-fold",
      n: head.reference.length,
      tiles: 1,
      reference: head.reference,
    },
  };
}

/** Each rule's figures over the summary's sources (rows measured with a head). */
function ruleSummaries(
  big: LosoRow[],
  rendererNames: string[],
): Partial<Record<VerdictRule, RuleSummary>> {
  return Object.fromEntries(LOSO_RULES.map((rule) => {
    const of = big.map((r) => r.rules![rule]!);
    const photos = (k: keyof Calls) => of.map((x) => x.photos[k]);
    return [rule, {
      natural: mean(photos("natural")),
      worstNatural: min(photos("natural")),
      unsure: mean(photos("unsure")),
      worstUnsure: max(photos("unsure")),
      cg: mean(photos("cg")),
      renders: Object.fromEntries(rendererNames.map((name) => [name, {
        cg: mean(of.map((x) => x.renders[name].cg)),
        unsure: mean(of.map((x) => x.renders[name].unsure)),
        natural: mean(of.map((x) => x.renders[name].natural)),
      }])),
    }];
  }));
}

/**
 * The paths of the photographs (of `sets[0]`) and renders (of `sets[1]`) whose vectors of every
 * source in `parts` are cached under `dir` from the same files ({@link cachedSamples}): decoded
 * before, so checked from their headers only.
 */
async function decodedBefore(
  [nat, ren]: [Dataset, Dataset],
  dir: string,
  parts: FeatureSource[],
  store: ImageStore,
): Promise<Set<string>> {
  const entries = [
    ...nat.images.filter((e) => e.label === 0),
    ...ren.images.filter((e) => e.label > 0),
  ];
  const samples = entries.map((e) => ({ entry: { ...e, role: "test" as const }, tile: 0 }));
  let ok = entries.map(() => true);
  for (const source of parts) {
    const has = await cachedSamples(dir, { source, store, samples });
    ok = ok.map((v, i) => v && has[i]);
  }
  return new Set(entries.filter((_, i) => ok[i]).map((e) => e.path));
}

/**
 * One weight per row: one over the count of its group's rows, so that every group weighs 1.
 *
 * @example Three rows of one source and one of another
 * ```ts
 * import { sourceWeights } from "./loso.ts";
 * console.log(sourceWeights([0, 0, 0, 1])); // [ 0.3333333333333333, 0.3333333333333333, 0.3333333333333333, 1 ]
 * ```
 */
export function sourceWeights(group: ArrayLike<number>): number[] {
  const count = new Map<number, number>();
  for (let i = 0; i < group.length; i++) count.set(group[i], (count.get(group[i]) ?? 0) + 1);
  return Array.from(group, (g) => 1 / count.get(g)!);
}

/** The results as Markdown: the summary per configuration, then every source. */
export function losoMarkdown(r: LosoResult): string {
  const f = (x: number) => Number.isFinite(x) ? x.toFixed(3) : "–";
  const big = r.sources.filter((s) => s.images >= r.minImages).length;
  const lines = [
    `# Leave one source out`,
    "",
    `${r.sources.length} photograph sources (${
      r.sources.reduce((a, s) => a + s.images, 0)
    } photographs; ${big} with at least ${r.minImages}, which make mean and worst${
      r.heldOut === "big" ? ", and only they were held out" : ""
    }), against ` +
    r.renderers.map((x) => `${x.name} (${x.images})`).join(", ") +
    `. Threshold ${r.threshold}, ν ${r.nu}; unsure band ${
      r.unsureShare !== undefined
        ? `${r.unsureShare} of the natural reference around the threshold`
        : `±${r.unsure}·|threshold|`
    }${
      r.balance === "source"
        ? "; each source weighing alike in the fit and the threshold"
        : r.balance === "threshold"
        ? "; each source weighing alike in the threshold"
        : r.balance === "fit"
        ? "; each source weighing alike in the fit (the threshold unweighted)"
        : ""
    }; ` +
    (r.shortSide
      ? `every image brought down to a short side of ${r.shortSide} px first`
      : "every image at its own size") +
    (r.matchCompression ? `, then re-encoded as JPEG ${r.matchCompression}.` : ".") +
    (r.naturalCopies
      ? ` Each fit also took a copy of each of its photographs processed as ${r.naturalCopies}` +
        (r.naturalCopies.includes("..") ? " (strengths drawn per photograph)." : ".")
      : "") +
    (r.trainSources || r.trainImages
      ? ` Each fit on at most ${r.trainSources ?? "all"} of the other sources and ${
        r.trainImages ?? "all"
      } of their photographs, drawn with seed ${r.seed}.`
      : ""),
    "",
    ...(big ? [] : [`No source has ${r.minImages} photographs: no mean or worst ("–").`, ""]),
    "| features | model | threshold | recall mean | recall worst | unsure mean | unsure worst | AUC mean | AUC worst |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...r.cells.map((c) =>
      `| ${c.features} | ${c.kind} | ${c.threshold} | ${f(c.mean.recall)} | ${
        f(c.worst.recall)
      } | ${f(c.mean.unsure)} | ${f(c.worst.unsure)} | ${f(c.mean.auc)} | ${f(c.worst.auc)} |`
    ),
    "",
  ];
  const perRenderer = r.cells.filter((c) => c.renderers);
  if (perRenderer.length) {
    const again = r.headModel !== undefined;
    lines.push(
      "Per renderer (over the same sources): AUC mean and worst, and the mean shares of its renders " +
        "called computer-generated / unsure / natural by the held-out source's model" +
        (again
          ? "; then the mean AUC of the head fitted without that renderer, and of the fused score."
          : "."),
      "",
      `| features | model | renderer | AUC mean | AUC worst | CG | unsure | natural |${
        again ? " head AUC | fused AUC |" : ""
      }`,
      `| --- | --- | --- | --- | --- | --- | --- | --- |${again ? " --- | --- |" : ""}`,
      ...perRenderer.flatMap((c) =>
        Object.entries(c.renderers!).map(([name, x]) =>
          `| ${c.features} | ${c.kind} | ${name} | ${f(x.auc)} | ${f(x.worstAuc)} | ${f(x.cg)} | ${
            f(x.unsure)
          } | ${f(x.natural)} |${
            again ? ` ${f(x.headAuc ?? NaN)} | ${f(x.fusedAuc ?? NaN)} |` : ""
          }`
        )
      ),
      "",
    );
  }
  const ruled = r.cells.filter((c) => c.rules);
  if (ruled.length) {
    lines.push(
      (r.headModel
        ? `Verdicts with a ${r.headModel.model} head on ${
          r.headModel.features ?? "each configuration's features"
        }, fitted again for each held-out source and each renderer (the photographs' shares: the ` +
          "mean over the heads)"
        : `Verdicts with the head of ${r.head?.name ?? "a detector"} (p(CG) threshold ${
          f(r.head?.threshold ?? NaN)
        })`) +
        `, by rule: the shares of a held-out source's photographs called natural (mean, worst), ` +
        "unsure (mean, worst) and computer-generated (mean), then of the renders (mean over " +
        "renderers) called computer-generated / unsure / natural.",
      "",
      "| features | model | rule | natural mean | natural worst | unsure mean | unsure worst | CG mean | renders CG | renders unsure | renders natural |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...ruled.flatMap((c) =>
        Object.entries(c.rules!).map(([rule, x]) => {
          const over = (k: keyof Calls) => f(mean(Object.values(x.renders).map((y) => y[k])));
          return `| ${c.features} | ${c.kind} | ${rule} | ${f(x.natural)} | ${
            f(x.worstNatural)
          } | ${f(x.unsure)} | ${f(x.worstUnsure)} | ${f(x.cg)} | ${over("cg")} | ${
            over("unsure")
          } | ${over("natural")} |`;
        })
      ),
      "",
    );
  }
  for (const c of r.cells) {
    lines.push(
      `## ${c.kind} on ${c.features}`,
      "",
      `| source | photographs | recall | unsure | ${
        r.renderers.map((x) => `AUC ${x.name}`).join(" | ")
      } |`,
      `| --- | --- | --- | --- | ${r.renderers.map(() => "---").join(" | ")} |`,
      ...c.rows.map((x) =>
        `| ${x.source} | ${x.images} | ${f(x.recall)} | ${f(x.unsure)} | ${
          r.renderers.map((y) => f(x.auc[y.name])).join(" | ")
        } |`
      ),
      "",
    );
  }
  return lines.join("\n");
}
