/**
 * The head's decision threshold, set on natural images the map never trained on, as every
 * threshold of the toolkit is: the (1 − ν) quantile of p(CG) over the natural images of the
 * split's `val` and `oneclass` roles (ν = 0.05), each image's p(CG) the mean over a grid of
 * crops (3 × 3 by default, as `evaluate` judges images). Renders play no part, and no test
 * image does.
 *
 * Why not p = 0.5: the softmax is calibrated, if at all, on the training renderers and the
 * training photographs' sources. On photographs from other sources the head leans towards
 * "computer-generated" (40 % of the independent set's photographs were over 0.5), so a fixed
 * 0.5 says nothing about how many photographs it will call rendered. The quantile does: about
 * ν of photographs like the validation ones.
 *
 * Saved in the map run as `head-threshold.json`, with the checksum of the map it was set for;
 * {@link headThreshold} sets it once and reads it afterwards (also for runs trained before it
 * existed).
 *
 * @module
 */

import { join } from "node:path";
import { CgvsniError } from "../core/errors.ts";
import { readJsonIfExists, writeJson } from "../core/files.ts";
import { makeProgress, type Progress, ticker } from "../core/progress.ts";
import { DEFAULT_NU, quantile } from "../core/stats.ts";
import { ImageStore } from "../data/cache.ts";
import { cropOf, samplesOf, tilesView, usable } from "../data/samples.ts";
import { predict } from "./predict.ts";
import type { ImageMap, MapRunInfo } from "./run.ts";

/** The head's threshold and how it was set. */
export interface HeadThreshold {
  /** An image is called computer-generated when its mean p(CG) ≥ this. */
  value: number;
  /** The share of the natural images at or above it (by construction about ν). */
  nu: number;
  /** The roles of the natural images it was set on. */
  from: string;
  /** How many natural images. */
  n: number;
  /** Crops per image side (the image's p(CG) is the mean over the grid). */
  tiles: number;
  /**
   * The natural images' p(CG), ascending (`value` is their quantile): an image's p(CG) read as an
   * upper-tail p-value among them feeds the detector's fused score. Empty when unknown.
   */
  reference: number[];
}

/** The threshold as the map run keeps it: with the checksum of the map it was set for. */
interface SavedHeadThreshold extends HeadThreshold {
  /** SHA-256 of the map's weights. */
  map: string;
}

/**
 * Where the head decides when no threshold was set on natural images: p(CG) = 0.5 (format-2
 * detectors, evaluations written before the threshold, a split with no natural val or one-class
 * image).
 */
export const UNSET_HEAD_THRESHOLD = 0.5;

/** The file in the map run. */
export const HEAD_THRESHOLD_FILE = "head-threshold.json";

/** Crops per side of the grid the threshold is set with (3, as `evaluate` judges images). */
export const HEAD_THRESHOLD_TILES = 3;

/** The split roles whose natural images set the threshold. */
const ROLES = ["val", "oneclass"] as const;

/** Options of {@link setHeadThreshold} and {@link headThreshold}. */
export interface HeadThresholdOptions {
  /** ν (default {@link DEFAULT_NU}). */
  nu?: number;
  /** Crops per side (default {@link HEAD_THRESHOLD_TILES}). */
  tiles?: number;
  /** Crop cache folder (default: memory only). */
  cacheDir?: string;
  /** Log sink. */
  progress?: Progress;
}

/**
 * The head's p(CG) of each natural `val` and `oneclass` image of a map run's split (the mean over a
 * grid of crops), the images its threshold is set on. Unreadable images are listed in the run
 * (`head-threshold-skipped.txt`) and left out.
 *
 * @example What the threshold is the quantile of
 * ```ts
 * import { naturalHeadScores, openMapRun, trainMap } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * await initBackend("auto");
 * const progress = makeProgress({ quiet: true });
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress });
 * const run = await openMapRun(runs, "m");
 * console.log((await naturalHeadScores(run, run.map, { progress })).length);
 * run.map.net.dispose();
 * ```
 */
export async function naturalHeadScores(
  run: MapRunInfo,
  map: ImageMap,
  o: HeadThresholdOptions = {},
): Promise<number[]> {
  const log = o.progress ?? makeProgress();
  const crop = map.net.cfg.crop, view = tilesView(crop, o.tiles ?? HEAD_THRESHOLD_TILES);
  const store = new ImageStore({
    dir: o.cacheDir,
    maxPixels: run.config.maxPixels,
    jpegQuality: run.config.matchCompression,
  });
  const naturals = run.split.filter((e) =>
    e.label === 0 && (ROLES as readonly string[]).includes(e.role)
  );
  const ok = await usable(naturals, store, view, crop, {
    skipBad: true,
    run: run.dir,
    log,
    what: "the head's threshold",
    listName: "head-threshold-skipped.txt",
  });
  const samples = await samplesOf(ok, store, view);
  log.start("head on natural validation images", samples.length);
  const { pCg } = await predict(
    map.net,
    samples.length,
    (i) => cropOf(samples[i], store, view, crop),
    map.norm,
    { onBatch: ticker(log) },
  );
  log.end();
  const byImage = new Map<string, number[]>();
  samples.forEach((s, i) => {
    const ps = byImage.get(s.entry.name) ?? [];
    ps.push(pCg[i]);
    byImage.set(s.entry.name, ps);
  });
  return [...byImage.values()].map((ps) => ps.reduce((a, b) => a + b, 0) / ps.length);
}

/**
 * Sets the head's threshold of a trained map on its run's natural `val` and `oneclass` images and
 * writes it into the run. Unreadable images are listed in the run and left out; with no
 * natural image left the threshold is {@link UNSET_HEAD_THRESHOLD} and `n` is 0.
 *
 * @example The threshold of a freshly trained map
 * ```ts
 * import { openMapRun, setHeadThreshold, trainMap } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * await initBackend("auto");
 * const progress = makeProgress({ quiet: true });
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress });
 * const run = await openMapRun(runs, "m");
 * const t = await setHeadThreshold(run, run.map, { progress });
 * console.log(t.value, t.n, t.from); // p(CG) at the 95 % quantile of val + one-class photographs
 * run.map.net.dispose();
 * ```
 */
export async function setHeadThreshold(
  run: MapRunInfo,
  map: ImageMap,
  o: HeadThresholdOptions = {},
): Promise<HeadThreshold> {
  const log = o.progress ?? makeProgress();
  const nu = o.nu ?? DEFAULT_NU, tiles = o.tiles ?? HEAD_THRESHOLD_TILES;
  const perImage = await naturalHeadScores(run, map, { ...o, progress: log });
  const t: SavedHeadThreshold = {
    value: perImage.length ? quantile(perImage, 1 - nu) : UNSET_HEAD_THRESHOLD,
    nu,
    from: `natural ${ROLES.join("+")} images of the split`,
    n: perImage.length,
    tiles,
    reference: [...perImage].sort((a, b) => a - b),
    map: map.sha,
  };
  try {
    await writeJson(join(run.dir, HEAD_THRESHOLD_FILE), t);
  } catch (e) {
    // a run on a read-only disk is still usable: the threshold is set again the next time
    if (!(e instanceof CgvsniError)) throw e;
    log.log(`note: ${e.message}; the head's threshold is not kept and will be set again next time`);
  }
  log.log(
    `head threshold: p(CG) ≥ ${t.value.toFixed(4)} (the ${1 - nu} quantile of ${t.n} natural ` +
      `${ROLES.join("+")} images)`,
  );
  const { map: _, ...threshold } = t;
  return threshold;
}

/**
 * The head's threshold of a map run: read from the run when it was set for this map (same
 * checksum, ν and grid), set (and written) otherwise.
 *
 * @example Read once set, set when missing
 * ```ts
 * import { headThreshold, openMapRun, trainMap } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * await initBackend("auto");
 * const progress = makeProgress({ quiet: true });
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress });
 * const run = await openMapRun(runs, "m");
 * console.log((await headThreshold(run, run.map, { progress })).value);
 * run.map.net.dispose();
 * ```
 */
export async function headThreshold(
  run: MapRunInfo,
  map: ImageMap,
  o: HeadThresholdOptions = {},
): Promise<HeadThreshold> {
  const saved = await readJsonIfExists<SavedHeadThreshold>(join(run.dir, HEAD_THRESHOLD_FILE));
  if (
    saved && saved.map === map.sha && saved.nu === (o.nu ?? DEFAULT_NU) &&
    saved.tiles === (o.tiles ?? HEAD_THRESHOLD_TILES) && Number.isFinite(saved.value) &&
    saved.reference?.length === saved.n
  ) {
    const { map: _, ...threshold } = saved;
    return threshold;
  }
  return await setHeadThreshold(run, map, o);
}
