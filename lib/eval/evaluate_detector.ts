/**
 * Evaluating a finished detector (a folder written by `export-detector`, such as the shipped
 * `models/cgbench-small`) on a labelled dataset folder it never saw: every image is scored
 * exactly as `detect` scores it (prepared as in training, tiled, head and one-class model), then
 * natural images are compared with each renderer by the same metrics, intervals and controls as
 * the run evaluation (`lib/eval/evaluate.ts`). Nothing is fitted or thresholded here: the head
 * and the one-class model decide at their own saved thresholds.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { type Shard, shardFiles, shardName, shardOf, WHOLE } from "../cluster/shard.ts";
import { CgvsniError, ImageError } from "../core/errors.ts";
import { atomicWrite, parseExact, stringifyExact } from "../core/files.ts";
import { makeProgress, type Progress } from "../core/progress.ts";
import { type Dataset, loadDataset } from "../data/dataset.ts";
import { decodeImage, type DecodeOptions, readImageFile } from "../data/decode.ts";
import { parsePerturbation, perturb } from "../data/perturb.ts";
import { Rng } from "../core/rng.ts";
import { controlsOf, TOO_CLEAN } from "./controls.ts";
import { rendererResults, seenLabels, testSetName } from "./evaluate.ts";
import type { Evaluation, ImageScore } from "./evaluation.ts";
import { writeEvaluation } from "./results.ts";
import { renderersName } from "../map/run.ts";
import { ensureDir } from "../runs/folder.ts";
import type { Detection, Detector, DetectorInfo } from "../detect/detector.ts";
import { DEFAULT_BOOTSTRAP } from "./metrics.ts";

/** Options of {@link evaluateDetector}. */
export interface EvaluateDetectorOptions extends DecodeOptions {
  /** The dataset folder to score (its `dataset.csv`; every image is a test image). */
  testData: string;
  /** Another CSV for `testData`. */
  testCsv?: string;
  /** Folder for `results.json`, `results.md`, `roc.svg`, `histograms.svg`, `skipped.txt`. */
  out: string;
  /** Bootstrap resamples (default 1000). */
  bootstrap?: number;
  /** Bootstrap seed (default 0). */
  seed?: number;
  /** Most tiles per image side (default: the detector's). */
  maxTilesPerSide?: number;
  /** Skip the positive control (blurred natural images; scores every natural image twice). */
  noControls?: boolean;
  /** Progress and log sink. */
  progress?: Progress;
}

/**
 * Scores every image of a labelled dataset folder with a detector and reports head and
 * one-class model per renderer (AUC, HTER, NI recall … with 95 % bootstrap intervals), with
 * the negative control (natural images inside, per source folder) and the positive control
 * (natural images blurred: {@link TOO_CLEAN}). Unreadable or too small images are listed in
 * `skipped.txt` with the reason, and the rest are evaluated.
 *
 * @example The shipped detector on the shipped images
 * ```ts
 * import { evaluateDetector } from "./mod.ts";
 * import { loadDetector } from "../detect/mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * await initBackend("auto");
 * const det = await loadDetector(new URL("../../models/cgbench-small/", import.meta.url));
 * const ev = await evaluateDetector(det, {
 *   testData: "dataset",
 *   out: await Deno.makeTempDir(),
 *   bootstrap: 100,
 *   noControls: true,
 *   progress: makeProgress({ quiet: true }),
 * });
 * for (const r of ev.results) console.log(r.renderer, r.head?.auc.value, r.oneclass.auc.value);
 * det.dispose();
 * ```
 */
export async function evaluateDetector(
  det: Detector,
  o: EvaluateDetectorOptions,
): Promise<Evaluation & { dir: string }> {
  const dataset = await loadDataset(o.testData, { csv: o.testCsv });
  await ensureDir(o.out);
  return await assemble(det, dataset, await scorePart(det, dataset, WHOLE, o), o);
}

/** What scoring a slice of a dataset's images gave: a shard's part of an evaluation. */
export interface ScoredPart {
  /** The detector's name. */
  detector: string;
  /** Images in the whole dataset. */
  total: number;
  /** The slice. */
  shard: Shard;
  /** Each image's scores, in dataset order. */
  images: ImageScore[];
  /** The natural images' scores once blurred (the positive control). */
  blurred: ImageScore[];
  /** Images that could not be used, with the reason. */
  skipped: string[];
  /** Crops scored. */
  crops: number;
}

/** Scores the images of one shard of a dataset (all of them for {@link WHOLE}). */
async function scorePart(
  det: Detector,
  dataset: Dataset,
  shard: Shard,
  o: EvaluateDetectorOptions,
): Promise<ScoredPart> {
  const log = o.progress ?? makeProgress();
  const part: ScoredPart = {
    detector: det.info.name,
    total: dataset.images.length,
    shard,
    images: [],
    blurred: [],
    skipped: [],
    crops: 0,
  };
  const tooClean = parsePerturbation(TOO_CLEAN), rng = new Rng(`controls:${o.seed ?? 0}`);
  const entries = shardOf(dataset.images, shard);
  log.start("images", entries.length);
  for (const e of entries) {
    const opts = { name: e.name, maxTilesPerSide: o.maxTilesPerSide };
    const scoreOf = (d: Detection): ImageScore => ({
      name: e.name,
      label: e.label,
      source: e.source,
      pCg: d.pCg,
      score: d.score,
      ...(d.fused !== undefined ? { fused: d.fused } : {}),
      norm: NaN,
      ...(d.parts ? { failsCheck: d.checks.length > 0 } : {}),
      verdict: d.verdict,
    });
    try {
      // readImageFile, not Deno.readFile: it refuses links out of the sandbox, as detect does
      const img = await decodeImage(await readImageFile(e.path), e.name, o);
      const d = await det.scoreImage(img, opts);
      part.crops += d.crops;
      part.images.push(scoreOf(d));
      if (!o.noControls && e.label === 0) {
        // the blur draws nothing from rng: a shard's controls are those of one process
        part.blurred.push(scoreOf(await det.scoreImage(await perturb(img, tooClean, rng), opts)));
      }
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      part.skipped.push(err.message);
      log.log(`skipped ${err.message}`);
    }
    log.tick();
  }
  log.end();
  return part;
}

/** The evaluation of the scored images: metrics per renderer, intervals, controls; written out. */
async function assemble(
  det: Detector,
  dataset: Dataset,
  part: Omit<ScoredPart, "shard">,
  o: EvaluateDetectorOptions,
): Promise<Evaluation & { dir: string }> {
  const log = o.progress ?? makeProgress();
  const reps = o.bootstrap ?? DEFAULT_BOOTSTRAP, seed = o.seed ?? 0;
  const { images, blurred, skipped, crops } = part;
  if (skipped.length) {
    await atomicWrite(join(o.out, "skipped.txt"), skipped.join("\n") + "\n");
  }

  const ev: Evaluation = {
    detector: det.info.name,
    rule: det.info.rule,
    map: typeof det.info.provenance?.mapRun === "string" ? det.info.provenance.mapRun : undefined,
    oneclassRun: det.info.name,
    oneclassKind: det.oneClass.kind,
    features: det.info.features,
    trainedOn: renderersName(det.info) || "none",
    testSet: `dataset ${dataset.root}` + preparation(det.info.preprocess),
    crops: { mode: "tiles", perImage: images.length ? crops / images.length : 0 },
    bootstrap: { reps, seed },
    threshold: {
      value: det.oneClass.threshold,
      from: det.oneClass.thresholdFrom,
      nu: det.oneClass.nu,
    },
    headThreshold: det.info.headThreshold,
    results: rendererResults(
      images,
      dataset,
      seenLabels(dataset, det.info.renderers),
      det.headAt,
      reps,
      seed,
      log,
    ),
    norms: [],
    controls: o.noControls ? undefined : controlsOf(images, blurred, {
      headAt: det.headAt,
      nu: det.oneClass.nu,
      reps,
      seed,
    }),
    images,
    skipped,
    created: new Date().toISOString(),
  };
  await writeEvaluation(o.out, ev);
  return { ...ev, dir: o.out };
}

/** The file a shard of a detector evaluation writes. */
export function evaluationShardFile(out: string, shard: Shard): string {
  return join(out, "shards", `${shardName(shard)}.json`);
}

/**
 * Scores one shard of the images (`evaluate --test-data DIR --shard i/N`) and writes them to
 * `<out>/shards/shard-i-of-N.json`, at full precision; {@link mergeDetectorEvaluation} makes the
 * evaluation of all the shards, the one a single process makes.
 */
export async function scoreDetectorShard(
  det: Detector,
  o: EvaluateDetectorOptions & { shard: Shard },
): Promise<string> {
  const dataset = await loadDataset(o.testData, { csv: o.testCsv });
  const part = await scorePart(det, dataset, o.shard, o);
  const file = evaluationShardFile(o.out, o.shard);
  await ensureDir(dirname(file));
  await atomicWrite(file, stringifyExact(part));
  return file;
}

/**
 * The evaluation of a sharded detector evaluation: every shard's scores in order, then the
 * metrics, intervals and controls as {@link evaluateDetector} computes them. Refuses when a shard
 * is missing (naming it) or was written for another detector or dataset.
 */
export async function mergeDetectorEvaluation(
  det: Detector,
  o: EvaluateDetectorOptions,
): Promise<Evaluation & { dir: string }> {
  const dataset = await loadDataset(o.testData, { csv: o.testCsv });
  const wanted = await shardFiles(join(o.out, "shards"), "json", "score them");
  const all: Omit<ScoredPart, "shard"> = {
    detector: det.info.name,
    total: dataset.images.length,
    images: [],
    blurred: [],
    skipped: [],
    crops: 0,
  };
  for (const f of wanted) {
    const p = parseExact<ScoredPart>(await Deno.readTextFile(f));
    if (p.detector !== det.info.name || p.total !== dataset.images.length) {
      throw new CgvsniError(
        `${f}: written by ${p.detector} for ${p.total} images, not ${det.info.name} for ${dataset.images.length}: shards of another evaluation`,
      );
    }
    all.images.push(...p.images);
    all.blurred.push(...p.blurred);
    all.skipped.push(...p.skipped);
    all.crops += p.crops;
  }
  await ensureDir(o.out);
  return await assemble(det, dataset, all, o);
}

/**
 * The default results folder of a detector evaluation: `<runs>/detectors/<detector>-<dataset>`,
 * and `-<csv>` after it when the images are listed by another CSV than `dataset.csv` (two lists
 * of one folder get two folders).
 *
 * @example
 * ```ts
 * import { detectorEvaluationDir } from "./mod.ts";
 * console.log(detectorEvaluationDir("runs", "models/cgbench-small/", "/data/indep")); // runs/detectors/cgbench-small-indep
 * console.log(detectorEvaluationDir("runs", "models/cgbench-small", "/data/p", "/data/p/camera.csv")); // runs/detectors/cgbench-small-p-camera
 * ```
 */
export function detectorEvaluationDir(
  runs: string,
  detector: string,
  testData: string,
  testCsv?: string,
): string {
  const name = basename(detector.replace(/\/+$/, "")) || "detector";
  return join(runs, "detectors", `${name}-${testSetName(testData, testCsv)}`);
}

/** How a detector prepares each image, as the results say it (empty when as decoded). */
function preparation(p: DetectorInfo["preprocess"]): string {
  const head = p.jpeg ? `re-encoded as JPEG ${p.jpeg} first` : "";
  if (!p.oneClass) return head ? ` (each image ${head}, as the detector was trained)` : "";
  const own = p.oneClass.jpeg ? `re-encoded as JPEG ${p.oneClass.jpeg}` : "as decoded";
  return ` (each image ${head || "as decoded"} for the head, ${own} for the one-class stage, ` +
    "as each was fitted)";
}
