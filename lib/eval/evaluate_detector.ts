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

import { basename, join } from "node:path";
import { ImageError } from "../core/errors.ts";
import { atomicWrite } from "../core/files.ts";
import { makeProgress, type Progress } from "../core/progress.ts";
import { loadDataset } from "../data/dataset.ts";
import { decodeImage, type DecodeOptions, readImageFile } from "../data/decode.ts";
import { parsePerturbation, perturb } from "../data/perturb.ts";
import { Rng } from "../core/rng.ts";
import { controlsOf, TOO_CLEAN } from "./controls.ts";
import { rendererResults, seenLabels } from "./evaluate.ts";
import type { Evaluation, ImageScore } from "./evaluation.ts";
import { writeEvaluation } from "./results.ts";
import { renderersName } from "../map/run.ts";
import { ensureDir } from "../runs/folder.ts";
import type { Detection, Detector } from "../detect/detector.ts";
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
  const log = o.progress ?? makeProgress();
  const dataset = await loadDataset(o.testData, { csv: o.testCsv });
  await ensureDir(o.out);
  const reps = o.bootstrap ?? DEFAULT_BOOTSTRAP, seed = o.seed ?? 0;
  const images: ImageScore[] = [], blurred: ImageScore[] = [], skipped: string[] = [];
  let crops = 0;
  const tooClean = parsePerturbation(TOO_CLEAN), rng = new Rng(`controls:${seed}`);
  log.start("images", dataset.images.length);
  for (const e of dataset.images) {
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
    });
    try {
      // readImageFile, not Deno.readFile: it refuses links out of the sandbox, as detect does
      const img = await decodeImage(await readImageFile(e.path), e.name, o);
      const d = await det.scoreImage(img, opts);
      crops += d.crops;
      images.push(scoreOf(d));
      if (!o.noControls && e.label === 0) {
        blurred.push(scoreOf(await det.scoreImage(await perturb(img, tooClean, rng), opts)));
      }
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      skipped.push(err.message);
      log.log(`skipped ${err.message}`);
    }
    log.tick();
  }
  log.end();
  if (skipped.length) {
    await atomicWrite(join(o.out, "skipped.txt"), skipped.join("\n") + "\n");
  }

  const ev: Evaluation = {
    detector: det.info.name,
    map: typeof det.info.provenance?.mapRun === "string" ? det.info.provenance.mapRun : undefined,
    oneclassRun: det.info.name,
    oneclassKind: det.oneClass.kind,
    features: det.info.features,
    trainedOn: renderersName(det.info) || "none",
    testSet: `dataset ${dataset.root}` +
      (det.info.preprocess.jpeg
        ? ` (each image re-encoded as JPEG ${det.info.preprocess.jpeg} first, as the detector was trained)`
        : ""),
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

/**
 * The default results folder of a detector evaluation: `<runs>/detectors/<detector>-<dataset>`.
 *
 * @example
 * ```ts
 * import { detectorEvaluationDir } from "./mod.ts";
 * console.log(detectorEvaluationDir("runs", "models/cgbench-small/", "/data/indep")); // runs/detectors/cgbench-small-indep
 * ```
 */
export function detectorEvaluationDir(runs: string, detector: string, testData: string): string {
  const name = basename(detector.replace(/\/+$/, "")) || "detector";
  return join(runs, "detectors", `${name}-${basename(testData.replace(/\/+$/, ""))}`);
}
