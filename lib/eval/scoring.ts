/**
 * Scoring images for an evaluation: a one-class run opened with its detector ({@link openScorer}),
 * and each image's head p(CG), one-class score and feature norm ({@link scoreImages}): the crops
 * and features come from the run's caches, the scores from the detector's one method
 * (`Detector.judge`, lib/detect/detector.ts), as `detect` gets them.
 *
 * @module
 */

import { type Progress, ticker } from "../core/progress.ts";
import { ImageStore, type View } from "../data/cache.ts";
import type { Perturbation } from "../data/perturb.ts";
import { samplesOf, tilesView, usable } from "../data/samples.ts";
import type { SplitEntry } from "../data/split.ts";
import { type Detector, detectorFromRun, type StageOutputs } from "../detect/detector.ts";
import { extractFeatures, featureDir } from "../features/extract.ts";
import { type FeatureSource, needsMap } from "../features/sources.ts";
import {
  type OneClassRunInfo,
  openOneClassRun,
  sourceSamples,
  sourceView,
} from "../oneclass/train.ts";
import type { CropMode, ImageScore } from "./evaluation.ts";

/** A one-class run opened for scoring: the run, and its detector (lib/detect/detector.ts). */
export interface Scorer {
  /** The run (its configuration, split and caches). */
  info: OneClassRunInfo;
  /** The run's detector: map (if any), one-class model, thresholds. */
  detector: Detector;
  /** Frees the tensors. */
  dispose(): void;
}

/**
 * Opens a one-class run and its detector ({@link detectorFromRun}: the head's threshold is set
 * on the map's natural validation images the first time, lib/map/threshold.ts).
 */
export async function openScorer(
  runs: string,
  map: string | undefined,
  oneclass: string,
  o: { cacheDir?: string; progress?: Progress } = {},
): Promise<Scorer> {
  const info = await openOneClassRun(runs, map, oneclass);
  const detector = await detectorFromRun(runs, map, oneclass, { ...o, run: info });
  return { info, detector, dispose: () => detector.dispose() };
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
 * The crops an evaluation scores: the head's (a map's `mode` crops; none without a map), the
 * one-class model's (the same crops for map features, the whole image otherwise), and the key
 * their cached vectors are saved under.
 *
 * @example Three tiles per side on l9 features, at a map's 233-pixel crop
 * ```ts
 * import { evaluationViews } from "./scoring.ts";
 * console.log(evaluationViews("tiles", 3, 233, "l9", true));
 * // { head: { kind: "tiles", size: 233, perSide: 3 }, oneclass: { kind: "tiles", ... }, key: "tiles3" }
 * ```
 */
export function evaluationViews(
  mode: CropMode,
  tiles: number,
  crop: number,
  source: FeatureSource,
  hasMap: boolean,
): { head?: View; oneclass: View; key: string } {
  const head: View | undefined = hasMap
    ? mode === "tiles"
      ? tilesView(crop, tiles)
      : mode === "ten"
      ? { kind: "ten", size: crop }
      : tilesView(crop, 1)
    : undefined;
  const oneclass = head && needsMap(source) ? head : sourceView(source, crop, 1).view;
  return { head, oneclass, key: mode === "tiles" ? `tiles${tiles}` : mode };
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
  const { info, detector } = sc;
  const map = detector.map;
  const source = info.config.features;
  const store = new ImageStore({
    dir: o.perturbation ? undefined : o.cacheDir,
    maxPixels: info.mapRun?.config.maxPixels,
    jpegQuality: info.matchCompression,
    perturbation: o.perturbation,
  });
  const crop = detector.crop;
  const { head: headView, oneclass: ocView, key: viewKey } = evaluationViews(
    o.mode,
    o.tiles,
    crop,
    source,
    !!map,
  );
  const checkView = headView ?? ocView;
  const ok = await usable(entries, store, checkView, crop, {
    skipBad: true,
    run: o.skipList,
    log: o.log,
    what: "evaluation",
  });
  const okNames = new Set(ok.map((e) => e.name));
  const skipped = entries.filter((e) => !okNames.has(e.name)).map((e) => e.name);
  const index = new Map(ok.map((e, i) => [e.name, i]));
  const cacheDir = featureDir(info.mapRun?.dir ?? info.dir);
  let cropsPerImage = 1;
  // the head: p(CG) of every crop of the view
  let head: StageOutputs["head"];
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
    head = { pCg: f.pCg!, image: samples.map((s) => index.get(s.entry.name)!) };
  }
  // the one-class model: map features on the same crops, or one vector per whole image
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
        key: `${o.cacheKey}-${source}-${needsMap(source) ? viewKey : "image"}`,
      }
      : undefined,
    onBatch: ticker(o.log),
  });
  o.log.end();
  // every consumer's scores come from the detector's one method
  const judged = await detector.judge({
    images: ok.length,
    head,
    vectors: {
      data: f.data,
      n: f.n,
      dim: f.dim,
      image: samples.map((s) => index.get(s.entry.name)!),
    },
  });
  const checks = detector.oneClass.checks.length > 0;
  const images = ok.map((e, i): ImageScore => {
    const j = judged[i];
    return {
      name: e.name,
      label: e.label,
      source: e.source,
      pCg: j.pCg,
      score: j.score,
      ...(j.fused !== undefined ? { fused: j.fused } : {}),
      norm: j.norm,
      ...(checks ? { failsCheck: j.checks.length > 0 } : {}),
    };
  });
  return { images, ok: okNames, skipped, cropsPerImage };
}
