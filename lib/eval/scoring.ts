/**
 * Scoring images for an evaluation: a one-class run's models loaded with the head's threshold
 * of its map ({@link openScorer}), and each image's head p(CG), one-class score and feature norm
 * ({@link scoreImages}), crops and features cached as the run's other stages cache them.
 *
 * @module
 */

import { join } from "node:path";
import { CgvsniError } from "../core/errors.ts";
import { type Progress, ticker } from "../core/progress.ts";
import { fisherScore, upperTail } from "../core/stats.ts";
import { ImageStore, type View } from "../data/cache.ts";
import { type DecoderRecord, warnOtherDecoder } from "../data/decode.ts";
import type { Perturbation } from "../data/perturb.ts";
import { samplesOf, usable } from "../data/samples.ts";
import type { SplitEntry } from "../data/split.ts";
import { extractFeatures, featureDir } from "../features/extract.ts";
import { needsMap } from "../features/sources.ts";
import { type ImageMap, loadImageMap } from "../map/run.ts";
import { type HeadThreshold, headThreshold } from "../map/threshold.ts";
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
import type { CropMode, ImageScore } from "./evaluation.ts";

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
  await warnOtherDecoder(model.provenance?.decoder as DecoderRecord | undefined, info.dir);
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
  const ocView = headView && needsMap(source) ? headView : sourceView(source, crop, 1).view;
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
  const headRef = sc.headThreshold?.reference ?? [];
  const images = ok.map((e) => {
    const r = byImage.get(e.name)!;
    const pCg = r.np ? r.p / r.np : NaN, score = r.s / r.ns;
    const fused = r.np ? fusedScore(headRef, pCg, model, score) : undefined;
    return {
      name: e.name,
      label: e.label,
      source: e.source,
      pCg,
      score,
      ...(fused !== undefined ? { fused } : {}),
      norm: r.norm / r.ns,
      ...(checks ? { failsCheck: r.check / r.ns > 0 } : {}),
    };
  });
  return { images, ok: okNames, skipped, cropsPerImage };
}

/**
 * The fused score of a head p(CG), read against the head's natural references, and a one-class
 * score, read against the model's (see {@link Detector.fused}); undefined without either.
 *
 * @example An image beyond every natural reference of both stages
 * ```ts
 * import { fusedScore } from "./scoring.ts";
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
