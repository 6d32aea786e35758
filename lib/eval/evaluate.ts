/**
 * The evaluation protocol. On test images (the run's test split, disjoint from everything
 * either stage trained on or set a threshold with; or every image of another dataset folder),
 * natural images against **every** renderer, seen in training or not, the supervised head
 * (p(CG) ≥ its threshold) and the one-class model (score > 0) are scored with the same metrics,
 * each with a 95 % stratified-bootstrap confidence interval: accuracy, CG recall, NI recall,
 * HTER, ROC AUC, EER, TPR at FPR = 5 %. Thresholds are the models' own, set on natural images
 * only (the head's on the map's natural validation images, lib/map/threshold.ts; the one-class
 * model's on its natural training or validation vectors); nothing here looks at test labels to
 * set or flip anything.
 *
 * Diagnostics, each in `results.json` and the report:
 * - the norm of the one-class feature vectors per class (renders with quiet, low-norm vectors
 *   sit inside any distance-based ball: the failure this measures);
 * - a **positive control**: the natural test images made artificially too clean (Gaussian blur,
 *   σ 1.5), which a model of natural image statistics must put outside;
 * - a **negative control**: the natural test images of each source folder separately, which
 *   must score inside at about 1 − ν.
 *
 * Image-level scores average an image's crops (head, map features) or use its one whole-image
 * vector (`residual`). Writes `results.json`, `results.md`, `roc.svg`, `histograms.svg`.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { CgvsniError, UsageError } from "../core/errors.ts";
import { atomicWrite, readJsonIfExists, writeJson } from "../core/files.ts";
import { type Chart, renderSvg } from "../core/plot.ts";
import { makeProgress, type Progress, ticker } from "../core/progress.ts";
import { Rng } from "../core/rng.ts";
import { quantile } from "../core/stats.ts";
import { type BackendName, initBackend } from "../backends/select.ts";
import { ImageStore, type View } from "../data/cache.ts";
import { type Dataset, loadDataset } from "../data/dataset.ts";
import { formatPerturbation, parsePerturbation, type Perturbation } from "../data/perturb.ts";
import { samplesOf, usable } from "../data/samples.ts";
import type { SplitEntry } from "../data/split.ts";
import { extractFeatures, featureDir } from "../features/extract.ts";
import { type ClassRef, type ImageMap, loadImageMap, renderersName } from "../map/run.ts";
import { type HeadThreshold, headThreshold, UNSET_HEAD_THRESHOLD } from "../map/threshold.ts";
import type { OneClassEstimator } from "../oneclass/estimator.ts";
import { GaussianOneClass } from "../oneclass/gauss.ts";
import { loadOneClass } from "../oneclass/io.ts";
import {
  MIN_SIDE,
  type OneClassRunInfo,
  openOneClassRun,
  sourceSamples,
  sourceView,
} from "../oneclass/train.ts";
import { ensureDir } from "../runs/folder.ts";
import { bootstrap, metricSet, rocCurve, type RocPoint, type WithCi } from "./metrics.ts";

/** How many crops an image is judged on. */
export type CropMode = "tiles" | "ten" | "center";

/** Options of {@link evaluate}. */
export interface EvaluateOptions {
  /** The map run (absent for a one-class run of its own). */
  map?: string;
  /** The one-class run (inside the map run; default `flow`). */
  oneclass?: string;
  /** Parent folder of runs (default `runs`). */
  runs?: string;
  /** Crops per image for the head and map features: tiles (default), TenCrop, centre crop. */
  crops?: CropMode;
  /** Tiles per side for `tiles` (default 3). */
  tiles?: number;
  /** Bootstrap resamples (default 1000). */
  bootstrap?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Score every image of this dataset folder (its own dataset.csv) instead of the test split. */
  testData?: string;
  /** Another CSV for `testData`. */
  testCsv?: string;
  /** Perturb every test image first (both classes; e.g. `jpeg:75`), for the robustness grid. */
  perturb?: string;
  /** Skip the positive and negative controls (default: run them). */
  noControls?: boolean;
  /** Write the results here instead of `<one-class run>/evaluation[-<dataset>]`. */
  out?: string;
  /** tfjs backend. */
  backend?: BackendName;
  /** Crop cache folder (default `<runs>/.cache`). */
  cacheDir?: string;
  /** Progress and log sink. */
  progress?: Progress;
}

/** The metrics the evaluation reports. */
export const METRICS = [
  "accuracy",
  "cgRecall",
  "niRecall",
  "hter",
  "auc",
  "eer",
  "tprAt5",
] as const;

/** One metric name. */
export type MetricName = typeof METRICS[number];

/** Results for natural images against one renderer. */
export interface RendererResult {
  /** Renderer (class) name. */
  renderer: string;
  /** Its label. */
  label: number;
  /** A renderer the map was trained on. */
  seen: boolean;
  /** Natural test images. */
  natural: number;
  /** This renderer's test images. */
  rendered: number;
  /** Supervised head (p(CG) ≥ its threshold); absent without a map. */
  head?: Record<MetricName, WithCi>;
  /** One-class model (score > 0). */
  oneclass: Record<MetricName, WithCi>;
  /** ROC curves. */
  roc: { head?: RocPoint[]; oneclass: RocPoint[] };
}

/** Per-image scores. */
export interface ImageScore {
  /** Name in dataset.csv. */
  name: string;
  /** Label. */
  label: number;
  /** Top-level folder. */
  source: string;
  /** Mean p(CG) over the image's crops (NaN without a map). */
  pCg: number;
  /** Mean one-class score over the image's vectors. */
  score: number;
  /** Mean L2 norm of the image's one-class feature vectors. */
  norm: number;
  /**
   * Whether the image fails a check of the one-class model (a Gaussian's check part: the
   * residual features' slope), so that the one-class stage never calls it natural; undefined
   * when the model has no checks.
   */
  failsCheck?: boolean;
}

/** Feature-norm summary of a class. */
export interface NormSummary {
  /** Class name. */
  name: string;
  /** Images. */
  n: number;
  /** Mean. */
  mean: number;
  /** Quartiles: 25 %, 50 %, 75 %. */
  q: [number, number, number];
}

/** The controls (see the module documentation). */
export interface Controls {
  /**
   * Natural test images blurred (σ 1.5): share the one-class model puts outside, the share it
   * does not call natural (outside, or failing a check; models with checks only), and the share
   * the head calls CG.
   */
  positive?: {
    perturbation: string;
    n: number;
    oneclassOutside: WithCi;
    oneclassNotNatural?: WithCi;
    headCg?: WithCi;
  };
  /** Natural test images per source folder: share inside (target 1 − ν). */
  negative: { source: string; n: number; inside: WithCi }[];
  /** 1 − ν. */
  target: number;
}

/** Everything an evaluation reports (also `results.json`). */
export interface Evaluation {
  /** The detector evaluated, when it was one (`evaluate --detector`), not a run. */
  detector?: string;
  /** Map run name (none for a one-class run of its own). */
  map?: string;
  /** One-class run name. */
  oneclassRun: string;
  /** One-class model kind. */
  oneclassKind: string;
  /** Its feature source. */
  features: string;
  /** The renderers the map was trained on (`+`-joined), or "none". */
  trainedOn: string;
  /** What was scored: the test split, or a dataset folder. */
  testSet: string;
  /** A perturbation applied to every test image, if any. */
  perturbation?: string;
  /** Crop mode and count per image (head, map features). */
  crops: { mode: CropMode; perImage: number };
  /** Bootstrap resamples and seed. */
  bootstrap: { reps: number; seed: number };
  /** One-class threshold and how it was set. */
  threshold: { value: number; from: string; nu: number };
  /** The head's threshold on p(CG) and how it was set (absent without a map). */
  headThreshold?: HeadThreshold;
  /** Results per renderer, in label order. */
  results: RendererResult[];
  /** Feature norms per class. */
  norms: NormSummary[];
  /** Positive and negative controls. */
  controls?: Controls;
  /** Per-image scores. */
  images: ImageScore[];
  /** Test images that could not be used, with the reason. */
  skipped: string[];
  /** When it was computed. */
  created: string;
}

/** The loaded models of a one-class run, ready to score images. */
export interface Scorer {
  /** The run. */
  info: OneClassRunInfo;
  /** The image map, if the run has one. */
  map?: ImageMap;
  /** The head's threshold, with the map. */
  headThreshold?: HeadThreshold;
  /** The one-class model. */
  model: OneClassEstimator;
  /** Frees the tensors. */
  dispose(): void;
}

/**
 * Loads a one-class run's models, and the head's threshold of its map (set on the map's
 * natural validation images the first time, lib/map/threshold.ts).
 */
export async function openScorer(
  runs: string,
  map: string | undefined,
  oneclass: string,
  o: { cacheDir?: string; progress?: Progress } = {},
): Promise<Scorer> {
  const info = await openOneClassRun(runs, map, oneclass);
  let model: OneClassEstimator;
  try {
    model = await loadOneClass(info.dir);
  } catch (e) {
    if (e instanceof CgvsniError && /not found/.test(e.message)) {
      throw new CgvsniError(`${info.dir}: no trained one-class model (train it first)`);
    }
    throw e;
  }
  const imageMap = info.mapRun ? await loadImageMap(join(info.mapRun.dir, "model")) : undefined;
  let head: HeadThreshold | undefined;
  try {
    head = info.mapRun && imageMap
      ? await headThreshold(info.mapRun, imageMap, {
        cacheDir: o.cacheDir ?? join(runs, ".cache"),
        progress: o.progress,
      })
      : undefined;
  } catch (e) {
    imageMap?.net.dispose();
    model.dispose();
    throw e;
  }
  return {
    info,
    map: imageMap,
    headThreshold: head,
    model,
    dispose() {
      imageMap?.net.dispose();
      model.dispose();
    },
  };
}

/**
 * Evaluates a one-class run (and its map's head) on test images.
 *
 * @example Head and one-class model on the test split, every renderer
 * ```ts
 * import { evaluate } from "./mod.ts";
 * import { trainMap } from "../map/mod.ts";
 * import { trainOneClass } from "../oneclass/mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * await initBackend("auto");
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress: makeProgress({ quiet: true }) });
 * await trainOneClass({ map: "m", runs, features: "residual", oneclass: "gauss", progress: makeProgress({ quiet: true }) });
 * const ev = await evaluate({ map: "m", oneclass: "residual-gauss", runs, bootstrap: 50, progress: makeProgress({ quiet: true }) });
 * for (const r of ev.results) console.log(r.renderer, r.head?.auc.value, r.oneclass.auc.value);
 * ```
 */
export async function evaluate(o: EvaluateOptions): Promise<Evaluation & { dir: string }> {
  const log = o.progress ?? makeProgress();
  const runs = resolve(o.runs ?? "runs");
  const backend = await initBackend(o.backend ?? "auto");
  for (const n of backend.notices) log.log(`notice: ${n}`);
  const sc = await openScorer(runs, o.map, o.oneclass ?? "flow", {
    cacheDir: o.cacheDir,
    progress: log,
  });
  try {
    const { info } = sc;
    const mode = o.crops ?? "tiles";
    if (!["tiles", "ten", "center"].includes(mode)) {
      throw new UsageError(`crops must be tiles, ten or center, got "${mode}"`);
    }
    const tiles = o.tiles ?? 3;
    const perturbation = o.perturb ? parsePerturbation(o.perturb) : undefined;

    // the test images: the split's, or every image of another dataset
    let dataset: Dataset, entries: SplitEntry[], testSet: string;
    if (o.testData) {
      dataset = await loadDataset(o.testData, { csv: o.testCsv });
      entries = dataset.images.map((e) => ({ ...e, role: "test" as const }));
      testSet = `dataset ${dataset.root}`;
    } else {
      dataset = info.dataset;
      entries = info.split.filter((e) => e.role === "test");
      testSet = "test split";
    }
    const dir = o.out ??
      join(info.dir, o.testData ? `evaluation-${basename(dataset.root)}` : "evaluation");
    await ensureDir(dir);
    const scored = await scoreImages(sc, entries, {
      mode,
      tiles,
      perturbation,
      cacheDir: o.cacheDir ?? join(runs, ".cache"),
      // cached features are keyed by what was scored: only plain test-split runs share them
      cacheKey: o.testData || perturbation ? undefined : "test",
      skipList: dir,
      log,
    });
    const images = scored.images;
    const reps = o.bootstrap ?? 1000, seed = o.seed ?? 0;
    const seen = seenLabels(dataset, info.mapRun?.config.renderers ?? []);
    const headAt = sc.headThreshold?.value;
    const results = rendererResults(images, dataset, seen, headAt, reps, seed, log);
    let controls: Controls | undefined;
    if (!o.noControls && !perturbation) {
      controls = await runControls(
        sc,
        entries.filter((e) => e.label === 0 && scored.ok.has(e.name)),
        images,
        {
          mode,
          tiles,
          cacheDir: o.cacheDir ?? join(runs, ".cache"),
          reps,
          seed,
          log,
        },
      );
    }
    const ev: Evaluation = {
      map: info.mapRun?.name,
      oneclassRun: basename(info.dir),
      oneclassKind: sc.model.kind,
      features: info.config.features,
      trainedOn: info.mapRun ? renderersName(info.mapRun.config) : "none",
      testSet,
      perturbation: perturbation ? formatPerturbation(perturbation) : undefined,
      crops: { mode, perImage: scored.cropsPerImage },
      bootstrap: { reps, seed },
      threshold: { value: sc.model.threshold, from: sc.model.thresholdFrom, nu: sc.model.nu },
      headThreshold: sc.headThreshold,
      results,
      norms: normSummaries(images, dataset),
      controls,
      images,
      skipped: scored.skipped,
      created: new Date().toISOString(),
    };
    await writeEvaluation(dir, ev);
    return { ...ev, dir };
  } finally {
    sc.dispose();
  }
}

/** How {@link scoreImages} crops, perturbs and caches. */
export interface ImageScoringOptions {
  /** Crop mode of the head and map features. */
  mode: CropMode;
  /** Tiles per side for `tiles`. */
  tiles: number;
  /** A perturbation of every image. */
  perturbation?: Perturbation;
  /** Crop cache folder (unperturbed images only). */
  cacheDir: string;
  /** Stem prefix of the feature cache in the run (none: not cached). */
  cacheKey?: string;
  /** Folder for the list of unusable images. */
  skipList: string;
  /** Log sink. */
  log: Progress;
}

/**
 * Per-image head p(CG) (mean over crops), one-class score and feature norm (mean over the
 * image's vectors) of `entries`; unusable images are listed and left out.
 */
export async function scoreImages(
  sc: Scorer,
  entries: SplitEntry[],
  o: ImageScoringOptions,
): Promise<{ images: ImageScore[]; ok: Set<string>; skipped: string[]; cropsPerImage: number }> {
  const { info, map, model } = sc;
  const source = info.config.features;
  const store = new ImageStore({
    dir: o.perturbation ? undefined : o.cacheDir,
    maxPixels: info.mapRun?.config.maxPixels,
    jpegQuality: info.matchCompression,
    perturbation: o.perturbation,
  });
  const crop = map?.net.cfg.crop ?? MIN_SIDE;
  const headView: View | undefined = map
    ? o.mode === "tiles"
      ? { kind: "tiles", size: crop, perSide: o.tiles }
      : o.mode === "ten"
      ? { kind: "ten", size: crop }
      : { kind: "tiles", size: crop, perSide: 1 }
    : undefined;
  const viewKey = o.mode === "tiles" ? `tiles${o.tiles}` : o.mode;
  const checkView = headView ?? sourceView(source, crop, 1).view;
  const ok = await usable(entries, store, checkView, crop, {
    skipBad: true,
    run: o.skipList,
    log: o.log,
    what: "evaluation",
  });
  const okNames = new Set(ok.map((e) => e.name));
  const skipped = entries.filter((e) => !okNames.has(e.name)).map((e) => e.name);
  const cacheDir = featureDir(info.mapRun?.dir ?? info.dir);
  const byImage = new Map<
    string,
    { p: number; np: number; s: number; ns: number; norm: number; check: number }
  >();
  const slot = (name: string) => {
    let r = byImage.get(name);
    if (!r) byImage.set(name, r = { p: 0, np: 0, s: 0, ns: 0, norm: 0, check: 0 });
    return r;
  };
  let cropsPerImage = 1;
  // the head: p(CG) of every crop of the view
  if (map && headView) {
    const samples = await samplesOf(ok, store, headView);
    cropsPerImage = samples.length / Math.max(1, ok.length);
    o.log.start("head", samples.length);
    const f = await extractFeatures({
      source: "l9",
      map,
      samples,
      store,
      view: headView,
      cache: o.cacheKey ? { dir: cacheDir, key: `${o.cacheKey}-l9-${viewKey}` } : undefined,
      onBatch: ticker(o.log),
    });
    o.log.end();
    samples.forEach((s, i) => {
      const r = slot(s.entry.name);
      r.p += f.pCg![i];
      r.np++;
    });
  }
  // the one-class model: map features on the same crops, or one vector per whole image
  const ocView = headView && source !== "residual" ? headView : sourceView(source, crop, 1).view;
  const samples = await sourceSamples(source, ok, store, ocView);
  o.log.start("one-class features", samples.length);
  const f = await extractFeatures({
    source,
    map,
    samples,
    store,
    view: ocView,
    cache: o.cacheKey
      ? {
        dir: cacheDir,
        key: `${o.cacheKey}-${source}-${source === "residual" ? "image" : viewKey}`,
      }
      : undefined,
    onBatch: ticker(o.log),
  });
  o.log.end();
  const s = await model.score(f.data, f.n);
  const checks = model instanceof GaussianOneClass ? model.checkScores(f.data, f.n) : undefined;
  samples.forEach((sm, i) => {
    const r = slot(sm.entry.name);
    r.s += s[i];
    if (checks) r.check += checks[i];
    let sq = 0;
    for (let j = 0; j < f.dim; j++) sq += f.data[i * f.dim + j] ** 2;
    r.norm += Math.sqrt(sq);
    r.ns++;
  });
  const images = ok.map((e) => {
    const r = byImage.get(e.name)!;
    return {
      name: e.name,
      label: e.label,
      source: e.source,
      pCg: r.np ? r.p / r.np : NaN,
      score: r.s / r.ns,
      norm: r.norm / r.ns,
      ...(checks ? { failsCheck: r.check / r.ns > 0 } : {}),
    };
  });
  return { images, ok: okNames, skipped, cropsPerImage };
}

/**
 * The labels of `dataset`'s renderers that the map learned, matched by name: another dataset
 * numbers its classes its own way.
 */
export function seenLabels(dataset: Dataset, learned: ClassRef[]): Set<number> {
  const names = new Set(learned.map((r) => r.name));
  return new Set(
    dataset.classes.filter((c) => c.label > 0 && names.has(c.name)).map((c) => c.label),
  );
}

/**
 * Head and one-class metrics with CIs, natural against each renderer of `dataset`. The head
 * decides at `headAt` (its threshold on p(CG); no head metrics when undefined), the one-class
 * model at score > 0.
 */
export function rendererResults(
  images: ImageScore[],
  dataset: Dataset,
  seen: Set<number>,
  headAt: number | undefined,
  reps: number,
  seed: number,
  log?: Progress,
): RendererResult[] {
  const natural = images.filter((r) => r.label === 0);
  const out: RendererResult[] = [];
  for (const cls of dataset.classes.filter((c) => c.label > 0)) {
    const cg = images.filter((r) => r.label === cls.label);
    if (cg.length === 0 || natural.length === 0) {
      log?.log(`note: no test images for natural vs ${cls.name}; skipped`);
      continue;
    }
    const both = [...natural, ...cg];
    const labels = both.map((r) => (r.label === 0 ? 0 : 1));
    const metrics = (scores: number[], threshold: number, strict: boolean) =>
      bootstrap(
        scores,
        labels,
        (sc, l) => ({ ...metricSet(sc, l, threshold, strict) }),
        reps,
        seed,
      ) as Record<
        MetricName,
        WithCi
      >;
    const pCg = both.map((r) => r.pCg), score = both.map((r) => r.score);
    out.push({
      renderer: cls.name,
      label: cls.label,
      seen: seen.has(cls.label),
      natural: natural.length,
      rendered: cg.length,
      head: headAt !== undefined ? metrics(pCg, headAt, false) : undefined,
      oneclass: metrics(score, 0, true),
      roc: {
        head: headAt !== undefined ? rocCurve(pCg, labels) : undefined,
        oneclass: rocCurve(score, labels),
      },
    });
  }
  return out;
}

/** Feature-norm quartiles per class. */
export function normSummaries(images: ImageScore[], dataset: Dataset): NormSummary[] {
  return dataset.classes.flatMap((c) => {
    const xs = images.filter((i) => i.label === c.label).map((i) => i.norm);
    if (xs.length === 0) return [];
    return [{
      name: c.name,
      n: xs.length,
      mean: xs.reduce((a, b) => a + b, 0) / xs.length,
      q: [quantile(xs, 0.25), quantile(xs, 0.5), quantile(xs, 0.75)] as [number, number, number],
    }];
  });
}

/** The perturbation of the positive control. */
export const TOO_CLEAN = "blur:1.5";

/** A proportion with a seeded bootstrap interval. */
function share(xs: boolean[], reps: number, seed: number): WithCi {
  if (xs.length === 0) return { value: NaN, lo: NaN, hi: NaN };
  const rng = new Rng(`share:${seed}`), boots: number[] = [];
  for (let r = 0; r < reps; r++) {
    let k = 0;
    for (let i = 0; i < xs.length; i++) k += +xs[rng.int(xs.length)];
    boots.push(k / xs.length);
  }
  const v = xs.filter(Boolean).length / xs.length;
  return { value: v, lo: quantile(boots, 0.025), hi: quantile(boots, 0.975) };
}

/** The positive and negative controls (see the module documentation). */
async function runControls(
  sc: Scorer,
  naturals: SplitEntry[],
  images: ImageScore[],
  o: { mode: CropMode; tiles: number; cacheDir: string; reps: number; seed: number; log: Progress },
): Promise<Controls> {
  const blurred = naturals.length > 0
    ? (await scoreImages(sc, naturals, {
      ...o,
      perturbation: parsePerturbation(TOO_CLEAN),
      skipList: sc.info.dir,
    })).images
    : undefined;
  return controlsOf(images, blurred, { headAt: sc.headThreshold?.value, nu: sc.model.nu, ...o });
}

/**
 * The controls from scored images: the negative control per source folder of the natural
 * images in `images`, the positive control from `blurred` (the natural images perturbed by
 * {@link TOO_CLEAN}), if given.
 */
export function controlsOf(
  images: ImageScore[],
  blurred: ImageScore[] | undefined,
  o: { headAt?: number; nu: number; reps: number; seed: number },
): Controls {
  const naturals = images.filter((i) => i.label === 0);
  const negative = [...new Set(naturals.map((i) => i.source))].sort().map((source) => {
    const xs = naturals.filter((i) => i.source === source).map((i) => i.score <= 0);
    return { source, n: xs.length, inside: share(xs, o.reps, o.seed) };
  });
  const positive: Controls["positive"] = blurred?.length
    ? {
      perturbation: TOO_CLEAN,
      n: blurred.length,
      oneclassOutside: share(blurred.map((i) => i.score > 0), o.reps, o.seed),
      ...(blurred.some((i) => i.failsCheck !== undefined)
        ? {
          oneclassNotNatural: share(
            blurred.map((i) => i.score > 0 || !!i.failsCheck),
            o.reps,
            o.seed,
          ),
        }
        : {}),
      headCg: o.headAt !== undefined
        ? share(blurred.map((i) => i.pCg >= o.headAt!), o.reps, o.seed)
        : undefined,
    }
    : undefined;
  return { positive, negative, target: +(1 - o.nu).toFixed(6) };
}

/**
 * A finished evaluation in `dir` (its `results.json`) that is still current, for the pipelines
 * that reuse what finished. One written before the head had its threshold (the head decided at
 * 0.5) is not: it is left in place, to be overwritten by a new evaluation.
 */
export async function currentEvaluation(
  dir: string,
  log?: Progress,
): Promise<Evaluation | undefined> {
  const saved = await readJsonIfExists<Evaluation>(join(dir, "results.json"));
  if (saved?.map && !saved.headThreshold) {
    log?.log(`${dir}: evaluated before the head had its threshold; evaluating again`);
    return undefined;
  }
  return saved;
}

/** Writes `results.json`, `results.md`, `roc.svg` and `histograms.svg` of `ev` into `dir`. */
export async function writeEvaluation(dir: string, ev: Evaluation): Promise<void> {
  await writeJson(join(dir, "results.json"), ev);
  await atomicWrite(join(dir, "results.md"), resultsMarkdown(ev));
  await atomicWrite(join(dir, "roc.svg"), rocSvg(ev));
  await atomicWrite(join(dir, "histograms.svg"), histogramSvg(ev));
}

const LABELS: Record<MetricName, string> = {
  accuracy: "accuracy",
  cgRecall: "CG recall",
  niRecall: "NI recall",
  hter: "HTER",
  auc: "ROC AUC",
  eer: "EER",
  tprAt5: "TPR@FPR5%",
};

/** `0.912 [0.85, 0.96]`. */
export function fmtCi(m?: WithCi): string {
  if (!m) return "–";
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
  return `${f(m.value)} [${f(m.lo)}, ${f(m.hi)}]`;
}

/**
 * How an evaluation's head decides, in words: `CG at p ≥ 0.6581 (the 0.95 quantile of 53 natural
 * val+flow images of the split)`. Evaluations older than the head's threshold decided at 0.5.
 */
export function headRule(ev: Pick<Evaluation, "headThreshold">): string {
  const t = ev.headThreshold;
  return t?.n
    ? `CG at p ≥ ${t.value.toPrecision(4)} (the ${1 - t.nu} quantile of ${t.n} ${t.from})`
    : `CG at p ≥ ${t?.value ?? UNSET_HEAD_THRESHOLD}`;
}

/** The name of an evaluation's one-class model in tables: `flow on l9`. */
export function oneclassLabel(ev: Pick<Evaluation, "oneclassKind" | "features">): string {
  return `one-class (${ev.oneclassKind} on ${ev.features})`;
}

/** The results as Markdown: one row per renderer and stage, then the diagnostics. */
export function resultsMarkdown(ev: Evaluation): string {
  const head = ["test renderer", "n (NI/CG)", "stage", ...METRICS.map((m) => LABELS[m])];
  const rows = ev.results.flatMap((r) =>
    (["head", "oneclass"] as const).filter((k) => k === "oneclass" || r.head).map((k) => [
      `${r.renderer}${r.seen ? " (seen)" : ""}`,
      `${r.natural}/${r.rendered}`,
      k === "head" ? "softmax head" : oneclassLabel(ev),
      ...METRICS.map((m) => fmtCi(r[k]![m])),
    ])
  );
  const below = ev.results.flatMap((r) =>
    (["head", "oneclass"] as const).filter((k) => r[k] && r[k]!.auc.value < 0.5).map((k) =>
      `${k === "head" ? "the head" : "the one-class model"} against ${r.renderer} (AUC ${
        r[k]!.auc.value.toFixed(3)
      })`
    )
  );
  const c = ev.controls;
  return [
    ev.detector
      ? `# Evaluation: detector \`${ev.detector}\` (map trained on ${ev.trainedOn})`
      : `# Evaluation: ${
        ev.map ? `map \`${ev.map}\` (trained on ${ev.trainedOn}), ` : ""
      }one-class \`${ev.oneclassRun}\``,
    "",
    `${ev.testSet}${ev.perturbation ? `, every image perturbed by ${ev.perturbation}` : ""}. ` +
    `Head: mean p(CG) over ${+ev.crops.perImage.toFixed(
      1,
    )} crop(s) per image (${ev.crops.mode}), ${headRule(ev)}. ` +
    `${oneclassLabel(ev)}: CG at score > 0, threshold ${ev.threshold.value.toPrecision(5)} ` +
    `(${ev.threshold.from}, ν = ${ev.threshold.nu}). 95 % intervals: stratified bootstrap, ` +
    `${ev.bootstrap.reps} resamples (seed ${ev.bootstrap.seed}).`,
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    below.length
      ? `**Below chance:** ${
        below.join("; ")
      }: these scores rank renders as more natural than photographs.\n`
      : "",
    "## Diagnostics",
    "",
    ...(ev.norms.length
      ? [
        "Norm of the one-class feature vectors per class (mean; quartiles):",
        "",
        ...ev.norms.map((s) =>
          `- ${s.name} (${s.n}): ${s.mean.toPrecision(4)}; ${
            s.q.map((v) => v.toPrecision(4)).join(", ")
          }`
        ),
        "",
      ]
      : []),
    ...(c
      ? [
        c.positive
          ? `Positive control: natural test images blurred (${c.positive.perturbation}), ${c.positive.n} images: ` +
            `one-class puts ${fmtCi(c.positive.oneclassOutside)} outside` +
            (c.positive.oneclassNotNatural
              ? ` and calls ${fmtCi(c.positive.oneclassNotNatural)} not natural (outside, or ` +
                "failing its check)"
              : "") +
            (c.positive.headCg ? `; the head calls ${fmtCi(c.positive.headCg)} CG.` : ".")
          : "",
        "",
        `Negative control: share of natural test images inside, per source folder (target ${c.target}): ` +
        c.negative.map((x) => `${x.source} (${x.n}) ${fmtCi(x.inside)}`).join("; ") + ".",
        "",
      ]
      : []),
    ev.skipped.length ? `Skipped (unusable): ${ev.skipped.join(", ")}` : "",
  ].join("\n").trimEnd() + "\n";
}

/** ROC curves of head and one-class model, one panel per renderer. */
export function rocSvg(ev: Evaluation): string {
  const charts: Chart[] = ev.results.map((r) => ({
    title: `natural vs ${r.renderer}${r.seen ? " (seen)" : ""}`,
    xLabel: "false-positive rate",
    yLabel: "true-positive rate",
    xRange: [0, 1],
    yRange: [0, 1],
    series: [
      ...(r.head && r.roc.head
        ? [{
          name: `head AUC ${r.head.auc.value.toFixed(3)}`,
          points: r.roc.head.map((p) => [p.fpr, p.tpr] as [number, number]),
        }]
        : []),
      {
        name: `${ev.oneclassKind} AUC ${r.oneclass.auc.value.toFixed(3)}`,
        points: r.roc.oneclass.map((p) => [p.fpr, p.tpr] as [number, number]),
      },
      { name: "chance", points: [[0, 0], [1, 1]], color: "#aaa", dashed: true },
    ],
  }));
  return renderSvg(charts, 360, 340);
}

/** Histograms of the one-class scores, natural vs each renderer. */
export function histogramSvg(ev: Evaluation): string {
  const all = ev.images.map((i) => i.score);
  const lo = Math.min(...all), hi = Math.max(...all);
  const bins = 20, w = (hi - lo) / bins || 1;
  const hist = (xs: number[]) =>
    Array.from({ length: bins }, (_, b) => {
      const n = xs.filter((x) => Math.min(bins - 1, Math.floor((x - lo) / w)) === b).length;
      return [lo + (b + 0.5) * w, n / Math.max(1, xs.length)] as [number, number];
    });
  const nat = ev.images.filter((i) => i.label === 0).map((i) => i.score);
  const charts: Chart[] = ev.results.map((r) => ({
    title: `one-class score: natural vs ${r.renderer}`,
    xLabel: "score (> 0: computer-generated)",
    yLabel: "share of images",
    bars: true,
    series: [
      { name: "natural", points: hist(nat) },
      {
        name: r.renderer,
        points: hist(ev.images.filter((i) => i.label === r.label).map((i) => i.score)),
      },
    ],
  }));
  return renderSvg(charts, 360, 300);
}
