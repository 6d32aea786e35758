/**
 * A map run's feature vectors computed ahead, a slice of the images at a time: the unit between
 * map training and the one-class fit in an experiment's graph, and `cgvsni features --shard i/N`.
 *
 * A slice is the `i`-th of `N` contiguous slices of the images (sorted by name) that later stages
 * read: the natural images the one-class model trains on, and the test split the evaluation
 * scores. For each it computes what those stages would, on the same crops and pixels: the
 * one-class source's vectors on the pool's crops, and on the test images the head's p(CG) (with
 * L9) and the source's vectors on the evaluation's crops. The one-class fit and the evaluation
 * then put their lists together from the slices (lib/features/extract.ts), row for row what they
 * would have computed; whatever no slice holds (another tiling, a perturbation, the blurred
 * control) they compute themselves.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { UnitKinds } from "../cluster/local.ts";
import type { Shard } from "../cluster/shard.ts";
import { shardName, shardOf } from "../cluster/shard.ts";
import { type BackendName, initBackend } from "../backends/select.ts";
import { makeProgress, type Progress, ticker } from "../core/progress.ts";
import { ImageStore, type View } from "../data/cache.ts";
import { usable } from "../data/samples.ts";
import type { SplitEntry } from "../data/split.ts";
import { extractFeatureShard, featureDir } from "../features/extract.ts";
import { DEFAULT_SOURCE, type FeatureSource, needsMap } from "../features/sources.ts";
import { openMapRun } from "../map/run.ts";
import {
  oneclassPool,
  oneclassTiles,
  poolRoles,
  sourceCrop,
  sourceSamples,
  sourceView,
} from "../oneclass/train.ts";
import { DEFAULT_RUNS } from "../runs/folder.ts";
import { DEFAULT_CROPS, DEFAULT_EVAL_TILES } from "./evaluate.ts";
import type { CropMode } from "./evaluation.ts";
import { evaluationViews } from "./scoring.ts";

/** Options of {@link precomputeFeatures}. */
export interface PrecomputeOptions {
  /** Parent folder of runs (default `runs`). */
  runs?: string;
  /** The map run. */
  map: string;
  /** The one-class model's feature source (default `l9`). */
  features?: FeatureSource;
  /** Crops per image side of the one-class pool (default: as the map was trained). */
  tiles?: number;
  /** The evaluation's crops (default `tiles`). */
  crops?: CropMode;
  /** The evaluation's tiles per side (default 3). */
  evalTiles?: number;
  /** Which slice (default the whole). */
  shard?: Shard;
  /** Crop cache folder (default `<runs>/.cache`). */
  cacheDir?: string;
  /** tfjs backend. */
  backend?: BackendName;
  /** Progress and log sink. */
  progress?: Progress;
}

/**
 * The unit kind `features` (a slice of a map run's vectors), for the executors.
 *
 * @example What a features unit asks of a scheduler per slice
 * ```ts
 * import { FEATURES_KINDS } from "./precompute.ts";
 * console.log(FEATURES_KINDS.features.resources); // { cpus: 2, memMB: 8192, minutes: 360 }
 * ```
 */
export const FEATURES_KINDS: UnitKinds = {
  features: {
    resources: { cpus: 2, memMB: 8192, minutes: 6 * 60 },
    run: async (p, { shard, log }) =>
      void await precomputeFeatures({ ...(p as PrecomputeOptions), shard, progress: log }),
  },
};

/** One list of vectors a slice computes. */
interface Job {
  what: string;
  source: FeatureSource;
  view: View;
  crop: number;
  entries: SplitEntry[];
}

/**
 * Computes one slice of a map run's vectors into `<run>/features/shards/`. Returns the files
 * written.
 *
 * @example The first of two slices of a map run's vectors
 * ```ts
 * import { precomputeFeatures } from "./precompute.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { trainMap } from "../map/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * await initBackend("auto");
 * const runs = await Deno.makeTempDir(), progress = makeProgress({ quiet: true });
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress });
 * console.log(await precomputeFeatures({ runs, map: "m", shard: { index: 1, count: 2 }, progress }));
 * ```
 */
export async function precomputeFeatures(o: PrecomputeOptions): Promise<string[]> {
  const log = o.progress ?? makeProgress();
  const runs = resolve(o.runs ?? DEFAULT_RUNS);
  await initBackend(o.backend ?? "auto");
  const run = await openMapRun(runs, o.map);
  try {
    const source = o.features ?? DEFAULT_SOURCE;
    const crop = run.map.net.cfg.crop;
    const store = new ImageStore({
      dir: o.cacheDir ?? join(runs, ".cache"),
      maxPixels: run.config.maxPixels,
      jpegQuality: run.config.matchCompression,
    });
    // the images of this slice, then what each later stage computes on them
    const byName = (a: SplitEntry, b: SplitEntry) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    const pool = oneclassPool(run.split, poolRoles(source));
    const test = run.split.filter((e) => e.role === "test");
    const shard = o.shard ?? { index: 1, count: 1 };
    const mine = new Set(shardOf([...pool, ...test].sort(byName), shard));
    const ev = evaluationViews(
      o.crops ?? DEFAULT_CROPS,
      o.evalTiles ?? DEFAULT_EVAL_TILES,
      crop,
      source,
      true,
    );
    const poolView = sourceView(source, crop, oneclassTiles(o.tiles, run)).view;
    const jobs: Job[] = [
      {
        what: "one-class pool",
        source,
        view: poolView,
        crop: sourceCrop(source, crop),
        entries: pool.filter((e) => mine.has(e)),
      },
      {
        what: "test head",
        source: "l9",
        view: ev.head!,
        crop,
        entries: test.filter((e) => mine.has(e)),
      },
    ];
    // the test images' one-class vectors: the head's pass holds them when they are L9 on its crops
    if (source !== "l9" || ev.oneclass !== ev.head) {
      jobs.push({
        what: "test one-class",
        source,
        view: ev.oneclass,
        crop: sourceCrop(source, crop),
        entries: test.filter((e) => mine.has(e)),
      });
    }
    const dir = featureDir(run.dir), files: string[] = [];
    for (const j of merged(jobs).filter((j) => j.entries.length)) {
      // unusable images are left out here; the stage reading them reports them
      const ok = await usable(j.entries, store, j.view, j.crop, {
        skipBad: true,
        run: dir,
        listName: `skipped-${shardName(shard)}.txt`,
        log,
        what: "features",
      });
      const samples = await sourceSamples(j.source, ok, store, j.view);
      log.start(`${j.what} (${j.source})`, samples.length);
      files.push(
        await extractFeatureShard({
          source: j.source,
          map: run.map,
          samples,
          store,
          view: j.view,
          dir,
          shard,
          onBatch: ticker(log),
        }),
      );
      log.end();
    }
    log.log(`${run.name}: ${mine.size} images' vectors in ${files.length} file(s) under ${dir}`);
    return files;
  } finally {
    run.map.net.dispose();
  }
}

/** Lists of the same source on the same crops, as one (one file per slice and definition). */
function merged(jobs: Job[]): Job[] {
  const out = new Map<string, Job>();
  for (const j of jobs) {
    const key = `${j.source} ${needsMap(j.source) ? JSON.stringify(j.view) : "image"}`;
    const seen = out.get(key);
    if (!seen) out.set(key, { ...j, entries: [...j.entries] });
    else {
      seen.what += ` + ${j.what}`;
      seen.entries.push(...j.entries.filter((e) => !seen.entries.includes(e)));
    }
  }
  return [...out.values()];
}
