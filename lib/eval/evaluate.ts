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
import { UsageError } from "../core/errors.ts";
import { makeProgress, type Progress } from "../core/progress.ts";
import { quantile } from "../core/stats.ts";
import { type BackendName, initBackend } from "../backends/select.ts";
import { type Dataset, loadDataset } from "../data/dataset.ts";
import { formatPerturbation, parsePerturbation } from "../data/perturb.ts";
import type { SplitEntry } from "../data/split.ts";
import { type ClassRef, renderersName } from "../map/run.ts";
import { DEFAULT_ONECLASS_RUN } from "../oneclass/train.ts";
import { DEFAULT_RUNS, ensureDir } from "../runs/folder.ts";
import { bootstrap, DEFAULT_BOOTSTRAP, metricSet, rocCurve, type WithCi } from "./metrics.ts";
import { openScorer, scoreImages } from "./scoring.ts";
import { runControls } from "./controls.ts";
import { writeEvaluation } from "./results.ts";
import {
  type Controls,
  type CropMode,
  type Evaluation,
  type ImageScore,
  type MetricName,
  type NormSummary,
  type RendererResult,
} from "./evaluation.ts";

/** Crops per image of the head and map features unless told another (`--crops`). */
export const DEFAULT_CROPS: CropMode = "tiles";

/** Tiles per image side of the evaluation unless told another (`--tiles`, `--eval-tiles`). */
export const DEFAULT_EVAL_TILES = 3;

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
  const runs = resolve(o.runs ?? DEFAULT_RUNS);
  const backend = await initBackend(o.backend ?? "auto");
  for (const n of backend.notices) log.log(`notice: ${n}`);
  const sc = await openScorer(runs, o.map, o.oneclass ?? DEFAULT_ONECLASS_RUN, {
    cacheDir: o.cacheDir,
    progress: log,
  });
  try {
    const { info } = sc;
    const mode = o.crops ?? DEFAULT_CROPS;
    if (!["tiles", "ten", "center"].includes(mode)) {
      throw new UsageError(`crops must be tiles, ten or center, got "${mode}"`);
    }
    const tiles = o.tiles ?? DEFAULT_EVAL_TILES;
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
      join(
        info.dir,
        o.testData ? `evaluation-${testSetName(o.testData, o.testCsv)}` : "evaluation",
      );
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
    const reps = o.bootstrap ?? DEFAULT_BOOTSTRAP, seed = o.seed ?? 0;
    const seen = seenLabels(dataset, info.mapRun?.config.renderers ?? []);
    const headAt = sc.detector.map ? sc.detector.headAt : undefined;
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
      oneclassKind: sc.detector.oneClass.kind,
      features: info.config.features,
      trainedOn: info.mapRun ? renderersName(info.mapRun.config) : "none",
      testSet,
      perturbation: perturbation ? formatPerturbation(perturbation) : undefined,
      crops: { mode, perImage: scored.cropsPerImage },
      bootstrap: { reps, seed },
      threshold: {
        value: sc.detector.oneClass.threshold,
        from: sc.detector.oneClass.thresholdFrom,
        nu: sc.detector.oneClass.nu,
      },
      ...(sc.detector.map ? { headThreshold: sc.detector.info.headThreshold } : {}),
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
    const fused = both.every((r) => r.fused !== undefined) ? both.map((r) => r.fused!) : undefined;
    out.push({
      renderer: cls.name,
      label: cls.label,
      seen: seen.has(cls.label),
      natural: natural.length,
      rendered: cg.length,
      head: headAt !== undefined ? metrics(pCg, headAt, false) : undefined,
      oneclass: metrics(score, 0, true),
      ...(fused ? { fused: metrics(fused, 0, true) } : {}),
      roc: {
        head: headAt !== undefined ? rocCurve(pCg, labels) : undefined,
        oneclass: rocCurve(score, labels),
        ...(fused ? { fused: rocCurve(fused, labels) } : {}),
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

/**
 * How an evaluation's folder names a test set: the dataset folder's name, then `-<csv>` when its
 * images are listed by another CSV than its own `dataset.csv`.
 *
 * @example
 * ```ts
 * import { testSetName } from "./evaluate.ts";
 * console.log(testSetName("/data/p"), testSetName("/data/p", "/data/p/camera.csv")); // p p-camera
 * ```
 */
export function testSetName(testData: string, testCsv?: string): string {
  const root = resolve(testData);
  const own = !testCsv || resolve(testCsv) === join(root, "dataset.csv");
  const list = own ? "" : `-${basename(testCsv!).replace(/\.csv$/i, "")}`;
  return basename(root) + list;
}
