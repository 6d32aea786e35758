/**
 * The one-class stage as a run: fit a one-class model on the feature vectors of natural images
 * only, readable top to bottom. The model itself is any estimator of this package (it also fits
 * on a plain array from a script); this file adds the run folder around it.
 *
 * 1. where: inside a map run (`runs/<map>/<name>/`, using the map's split), or, for a source
 *    that needs no map (`residual`), a run of its own (`runs/<name>/`) with its own split;
 * 2. the configuration, new or read back when resuming;
 * 3. the natural training images: the `oneclass` pool held back from the map for map features
 *    (the map has seen its own training images, whose features are unusually tight); every
 *    non-test natural image for `residual`;
 * 4. their feature vectors (cached);
 * 5. the fit: SVDD models epoch by epoch in the training loop (checkpoints, resume, the
 *    non-finite guard), the others at once; then the threshold, from natural vectors only;
 * 6. `oneclass.json/.bin` and `summary.json`.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { CgvsniError, UsageError } from "../core/errors.ts";
import { atomicWrite, exists, readJsonIfExists, writeJson } from "../core/files.ts";
import { renderSvg } from "../core/plot.ts";
import { makeProgress, type Progress, ticker } from "../core/progress.ts";
import { type BackendName, initBackend } from "../backends/select.ts";
import { ImageStore, type View } from "../data/cache.ts";
import { type Dataset, loadDataset } from "../data/dataset.ts";
import { decoderInfo, type DecoderRecord } from "../data/decode.ts";
import { type Sample, samplesOf, tilesView, usable } from "../data/samples.ts";
import {
  applySplit,
  DEFAULT_FRACTIONS,
  formatSplit,
  makeSplit,
  type Role,
  roleNamed,
  type SplitEntry,
} from "../data/split.ts";
import { extractFeatures, featureDir } from "../features/extract.ts";
import { RESIDUAL_PARTS } from "../features/residual.ts";
import {
  checkSource,
  DEFAULT_SOURCE,
  type FeatureSource,
  needsMap,
  sourceSpec,
  specKey,
} from "../features/sources.ts";
import { type ImageMap, type MapRunInfo, openMapRun, readMapRun } from "../map/run.ts";
import { checkRunName, DEFAULT_RUNS, runPath } from "../runs/folder.ts";
import { openRun } from "../runs/lifecycle.ts";
import { trainLoop } from "../runs/loop.ts";
import {
  checkKind,
  DEFAULT_KIND,
  type FeatureProvenance,
  groupMeans,
  ONECLASS_STEM,
  type OneClassEstimator,
  type OneClassKind,
  type ThresholdFrom,
} from "./estimator.ts";
import { type AnyOptions, createOneClass, otherFeatureVersion } from "./io.ts";
import { checkFeatureNorm } from "./normalise.ts";
import type { SvddEpoch } from "./_svdd.ts";

/** Everything `train-oneclass` can be told. */
export interface TrainOneClassOptions {
  /** The map run whose features are used (map sources; optional for `residual`). */
  map?: string;
  /** Dataset folder, for a `residual` run without a map. */
  data?: string;
  /** Another CSV instead of `<data>/dataset.csv`. */
  csv?: string;
  /**
   * With `data`: fit on every photograph, no test split (a corpus whose test sources are held
   * out apart, as for a shipped detector); default: a split of its own by source.
   */
  fitAll?: boolean;
  /** Parent folder of runs (default `runs`). */
  runs?: string;
  /** Name of this run (default: the model kind, e.g. `flow`, or `<source>-<kind>`). */
  name?: string;
  /** Continue from the last checkpoint. */
  resume?: boolean;
  /** Feature source (default `l9`). */
  features?: FeatureSource;
  /** One-class model (default `flow`). */
  oneclass?: OneClassKind;
  /** The model's settings (ν, normalisation, architecture, epochs, ...); see each kind. */
  settings?: AnyOptions;
  /**
   * How the threshold is set (default: the model's own, {@link defaultThreshold}); `cv-source`:
   * out of fold over whole sources (the dataset's `Group`), so that it reads scores of sources
   * each fold never saw, the question a user's camera asks (docs/natural-corpus.md).
   */
  threshold?: ThresholdFrom | "cv-source";
  /** Crops per image side for map sources (default: as the map was trained). */
  tiles?: number;
  /** Re-encode every image as JPEG first (runs without a map; a map run's own setting wins). */
  matchCompression?: number;
  /** Seed of the model and the folds (0). */
  seed?: number;
  /** Skip unusable images instead of stopping. */
  skipBad?: boolean;
  /** Crop cache folder (default `<runs>/.cache`). */
  cacheDir?: string;
  /** tfjs backend. */
  backend?: BackendName;
  /** Stop after this many epochs of this invocation. */
  stopAfter?: number;
  /** Write a checkpoint every this many epochs, and after the last (10). */
  checkpointEvery?: number;
  /** Progress and log sink. */
  progress?: Progress;
}

/** The resolved configuration, saved as `config.json` of the one-class run. */
export interface OneClassRunConfig {
  /** Marks a one-class run. */
  kind: "oneclass";
  /** Format version. */
  version: 2;
  /** When it started. */
  created: string;
  /** The map run (folder name) and the SHA-256 of its weights; absent for a run of its own. */
  mapRun?: { name: string; model: string };
  /** The dataset of a run of its own (its split is in the run folder). */
  dataset?: { root: string; csv?: string };
  /** Feature source. */
  features: FeatureSource;
  /** One-class model. */
  oneclass: OneClassKind;
  /** Its settings. */
  settings: AnyOptions;
  /** How the threshold is set. */
  threshold: ThresholdFrom | "cv-source";
  /** Crops per image side (map sources). */
  tiles: number;
  /** JPEG quality every image is re-encoded at first, if any. */
  matchCompression?: number;
  /** The natural images it trains on, by split role. */
  pool: Role[];
  /** Seed. */
  seed: number;
  /** Skip unusable images. */
  skipBad: boolean;
  /** Fitted on every image of its dataset, no test split (runs of their own only). */
  fitAll?: boolean;
}

/** What training reports at the end (also `summary.json`). */
export interface OneClassSummary {
  /** Training vectors (crops, or images for whole-image sources). */
  vectors: number;
  /** Natural training images. */
  images: number;
  /** Dimension. */
  dim: number;
  /** The threshold and how it was set. */
  threshold: number;
  /** How it was set. */
  thresholdFrom: ThresholdFrom;
  /** Share of natural training images whose score (mean over their vectors) is at most the threshold. */
  inside: number;
  /** 1 − ν. */
  target: number;
}

/** What {@link trainOneClass} returns. */
export interface TrainOneClassResult {
  /** The run folder. */
  run: string;
  /** Its configuration. */
  config: OneClassRunConfig;
  /** Per-epoch metrics (SVDD models). */
  epochs: SvddEpoch[];
  /** Final summary (when training finished). */
  summary?: OneClassSummary;
  /** Wall time of this invocation. */
  seconds: number;
}

/** A one-class run opened for use: its config, where its split comes from, its map. */
export interface OneClassRunInfo {
  /** The run folder. */
  dir: string;
  /** Its configuration. */
  config: OneClassRunConfig;
  /** The dataset. */
  dataset: Dataset;
  /** Every image's role. */
  split: SplitEntry[];
  /** The map run it builds on, if any. */
  mapRun?: MapRunInfo;
  /** JPEG quality every image is re-encoded at first (the map's, or the run's own). */
  matchCompression?: number;
}

/**
 * The default threshold of a kind: R², the (1 − ν) quantile of the training distances, for the
 * SVDD models (the method defines it so, and five more trainings would be needed for `cv`);
 * out-of-fold scores (`cv`) for the Gaussian and k-NN models, whose in-sample scores are
 * optimistic.
 */
export function defaultThreshold(kind: OneClassKind): ThresholdFrom {
  const est = createOneClass(kind);
  est.dispose();
  return est.thresholdMode;
}

/** Default name of a one-class run: `flow` for the method, else `<source>-<kind>`. */
export function defaultRunName(source: FeatureSource, kind: OneClassKind): string {
  return source === DEFAULT_SOURCE ? kind : `${source}-${kind}`;
}

/** The one-class run every command opens unless told another: the method's (`flow`). */
export const DEFAULT_ONECLASS_RUN: string = defaultRunName(DEFAULT_SOURCE, DEFAULT_KIND);

/** The natural images a source trains on (see the module documentation). */
export function poolRoles(source: FeatureSource): Role[] {
  return needsMap(source) ? ["oneclass"] : ["train", "val", "oneclass"];
}

/**
 * The images a one-class model trains on and sets its threshold with: natural images (label 0) in
 * the pool's roles, never a render of any renderer.
 *
 * @example
 * ```ts
 * import { oneclassPool } from "./train.ts";
 * const split = [
 *   { name: "a.png", label: 0, role: "oneclass" as const },
 *   { name: "b.png", label: 2, role: "oneclass" as const },
 *   { name: "c.png", label: 0, role: "test" as const },
 * ];
 * console.log(oneclassPool(split, ["oneclass"]).map((e) => e.name)); // ["a.png"]
 * ```
 */
export function oneclassPool<E extends Pick<SplitEntry, "label" | "role">>(
  split: E[],
  roles: Role[],
): E[] {
  const wanted = roles.map(roleNamed); // a run made before 0.3 names the pool's role "flow"
  return split.filter((e) => e.label === 0 && wanted.includes(e.role));
}

/** The view a source's samples index, and its cache-key suffix. */
export function sourceView(source: FeatureSource, crop: number, tiles: number): {
  view: View;
  key: string;
} {
  return needsMap(source)
    ? { view: tilesView(crop, tiles), key: `tiles${tiles}` }
    : { view: { kind: "center", size: MIN_SIDE }, key: "image" };
}

/** Epochs between checkpoints of the SVDD models unless told another (`--checkpoint-every`). */
export const DEFAULT_CHECKPOINT_EVERY = 10;

/** Smallest image side the whole-image features accept. */
export const MIN_SIDE = 16;

/** The smallest side an image needs for a source: the map's crop, or {@link MIN_SIDE}. */
export function sourceCrop(source: FeatureSource, mapCrop: number | undefined): number {
  if (!needsMap(source)) return MIN_SIDE;
  if (mapCrop === undefined) throw new RangeError(`the ${source} features need an image map`);
  return mapCrop;
}

/** Crops per image side a one-class model trains on unless told: as its map was trained, or 1. */
export function oneclassTiles(tiles: number | undefined, mapInfo?: MapRunInfo): number {
  return tiles ?? mapInfo?.config.train.tiles ?? 1;
}

/** One sample per image (whole-image sources) or per crop of the view (map sources). */
export async function sourceSamples(
  source: FeatureSource,
  entries: SplitEntry[],
  store: ImageStore,
  view: View,
): Promise<Sample[]> {
  return needsMap(source)
    ? await samplesOf(entries, store, view)
    : entries.map((entry) => ({ entry, tile: 0 }));
}

/**
 * Trains (or resumes) a one-class run.
 *
 * @example A Gaussian on residual features, in a run of its own (no map)
 * ```ts
 * import { trainOneClass } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * await initBackend("auto");
 * const runs = await Deno.makeTempDir();
 * const r = await trainOneClass({ data: "dataset", runs, name: "res", features: "residual", oneclass: "gauss", progress: makeProgress({ quiet: true }) });
 * console.log(r.summary); // vectors, threshold, share of training images inside
 * ```
 */
export async function trainOneClass(opts: TrainOneClassOptions): Promise<TrainOneClassResult> {
  const t0 = performance.now();
  const log = opts.progress ?? makeProgress();
  const runs = resolve(opts.runs ?? DEFAULT_RUNS);
  // a new run's source and kind; a resumed run takes them from its config.json
  let source = checkSource(opts.features ?? DEFAULT_SOURCE);
  let kind = checkKind(opts.oneclass ?? DEFAULT_KIND);
  if (needsMap(source) && !opts.map && !opts.resume) {
    throw new UsageError(
      `the ${source} features come from an image map: name a map run (or use residual or mobilenet features)`,
    );
  }
  if (!opts.map && !opts.data && !opts.resume) {
    throw new UsageError("name a map run, or a dataset folder for a run without a map");
  }

  // 1-2. Where the run lives, and its configuration. The backend comes first: the map's weights
  // are tensors, and made before it they would land on tfjs's default backend.
  const backend = await initBackend(opts.backend ?? "auto");
  const mapInfo = opts.map ? await openMapRun(runs, opts.map) : undefined;
  const map: ImageMap | undefined = mapInfo?.map;
  const name = checkRunName(opts.name ?? defaultRunName(source, kind));
  const dir = mapInfo ? join(mapInfo.dir, name) : runPath(runs, name);
  const ownData = !mapInfo && !opts.resume
    ? await loadDataset(opts.data!, { csv: opts.csv, naturalOnly: true })
    : undefined;
  try {
    const { config } = await openRun<OneClassRunConfig>({
      dir,
      kind: "oneclass",
      what: "one-class run",
      resume: !!opts.resume,
      finished: "oneclass.json",
      log,
      create: () => resolveOneClassConfig(opts, source, kind, mapInfo, map, ownData),
      given: [
        ["features", "features", opts.features],
        ["oneclass", "oneclass", opts.oneclass],
        ["threshold", "threshold", opts.threshold],
        ["tiles", "tiles", opts.tiles],
        ["seed", "seed", opts.seed],
        ["matchCompression", "match-compression", opts.matchCompression],
        ["fitAll", "fit-all", opts.fitAll || undefined],
        ...Object.entries(opts.settings ?? {}).map(([k, value]): [string, string, unknown] => [
          `settings.${k}`,
          k === "norm" ? "feature-norm" : k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
          value,
        ]),
      ],
    });
    source = config.features;
    kind = config.oneclass;
    if (needsMap(source) && !mapInfo) {
      throw new UsageError(`${dir}: a run on ${source} features lives in a map run: give --map`);
    }
    if (mapInfo && config.mapRun?.model !== map?.sha) {
      throw new CgvsniError(`${dir}: the map's model changed since this run started`);
    }
    if (opts.resume && opts.skipBad) config.skipBad = true;
    for (const n of backend.notices) log.log(`notice: ${n}`);
    const info = await openOneClassRun(runs, opts.map, name, { config, dir, ownData, mapInfo });

    // 3-4. The natural training images and their feature vectors.
    const store = new ImageStore({
      dir: opts.cacheDir ?? join(runs, ".cache"),
      maxPixels: mapInfo?.config.maxPixels,
      jpegQuality: info.matchCompression,
    });
    const crop = sourceCrop(source, map?.net.cfg.crop);
    const { view, key } = sourceView(source, crop, config.tiles);
    const pool = await usable(
      oneclassPool(info.split, config.pool),
      store,
      view,
      crop,
      { skipBad: config.skipBad, run: dir, log, what: "training" },
    );
    if (pool.length < 2) {
      throw new CgvsniError(
        `the one-class pool has ${pool.length} natural image(s): too few to train on`,
      );
    }
    const samples = await sourceSamples(source, pool, store, view);
    log.start("features", samples.length);
    const feats = await extractFeatures({
      source,
      map,
      samples,
      store,
      view,
      cache: { dir: featureDir(mapInfo?.dir ?? dir), key: `pool-${source}-${key}` },
      onBatch: ticker(log),
    });
    log.end();
    const { n, dim } = feats;
    log.log(
      `one-class run ${dir}: ${kind} on ${source} features, ${n} vectors (${pool.length} natural images) ` +
        `of dimension ${dim}${feats.cached ? " (cached)" : ""}; backend ${backend.name}`,
    );
    if (n < 4 * Math.sqrt(dim)) {
      log.log(`warning: ${n} training vectors of dimension ${dim} are few; expect a loose model`);
    }

    // 5. The fit, and the threshold from natural vectors only.
    // (the SVDD models train in epochs, checkpointed and resumable by the run's loop)
    const bySource = config.threshold === "cv-source";
    const est = createOneClass(kind, {
      ...config.settings,
      threshold: bySource ? "cv" : config.threshold as ThresholdFrom,
      seed: config.seed,
    });
    est.provenance = {
      ...provenance(source, map?.sha, info.matchCompression, await decoderInfo()),
      // a refit (calibrate --mode refit) folds by source again
      ...(bySource ? { threshold: "cv-source" } : {}),
    };
    const image = new Map(pool.map((e, i) => [e.name, i]));
    const groups = samples.map((s) => image.get(s.entry.name)!);
    const sources = [...new Set(pool.map((e) => e.group))].sort();
    if (bySource && (sources.length < 2 || sources.length === pool.length)) {
      throw new UsageError(
        `threshold cv-source folds whole sources (the Group column): the pool has ` +
          (sources.length < 2 ? `${sources.length}` : `one per photograph (no Group column?)`),
      );
    }
    let history: SvddEpoch[] = [];
    await est.fit(feats.data, n, dim, {
      groups,
      ...(bySource ? { foldGroups: samples.map((s) => sources.indexOf(s.entry.group)) } : {}),
      epochs: async (t) => {
        const loop = await trainLoop<SvddEpoch>({
          run: dir,
          epochs: t.epochs,
          resume: !!opts.resume,
          log,
          checkpointEvery: opts.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY,
          logEvery: 10,
          stopAfter: opts.stopAfter,
          restore: (d) => t.restore(d),
          save: (d) => t.state(d),
          epoch: async (e, guard) => await t.epoch(e, guard) as unknown as SvddEpoch,
          plot: svddPlot,
          line: (m) =>
            `epoch ${m.epoch}/${t.epochs} lr ${m.lr.toExponential(1)} loss ${m.loss.toFixed(4)} ` +
            `R ${m.radius.toFixed(4)} inside ${m.inside.toFixed(3)} | ${m.seconds.toFixed(1)}s`,
        });
        history = loop.history;
        return loop.finished;
      },
    });

    // 6. The model and its summary.
    let summary: OneClassSummary | undefined;
    if (est.finished) {
      const raw = groupMeans(await est.scoreSamples(feats.data, n), groups);
      summary = {
        vectors: n,
        images: pool.length,
        dim,
        threshold: est.threshold,
        thresholdFrom: est.thresholdFrom,
        inside: +(raw.filter((v) => v <= est.threshold).length / raw.length).toFixed(6),
        target: +(1 - est.nu).toFixed(6),
      };
      await est.save(dir, ONECLASS_STEM, { run: name, features: source, tiles: config.tiles });
      await writeJson(join(dir, "summary.json"), summary);
      log.log(
        `threshold ${est.threshold.toPrecision(5)} (${est.thresholdFrom}); ${
          summary.inside.toFixed(3)
        } ` +
          `of the training images inside (target ${summary.target}); model saved in ${
            join(dir, "oneclass.json")
          }`,
      );
    }
    est.dispose();
    return {
      run: dir,
      config,
      epochs: history as SvddEpoch[],
      summary,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    map?.net.dispose();
  }
}

/** What produced a model's features (saved with it, checked by detectors). */
export function provenance(
  source: FeatureSource,
  mapSha?: string,
  jpeg?: number,
  decoder?: DecoderRecord,
) {
  return {
    source,
    ...(mapSha ? { map: mapSha } : {}),
    ...(jpeg ? { matchCompression: jpeg } : {}),
    ...(decoder ? { decoder } : {}),
    ...(specKey(source) ? { [specKey(source)!]: sourceSpec(source) } : {}),
  };
}

/**
 * Opens a one-class run: inside map run `map` (`runs/<map>/<name>`), or a run of its own
 * (`runs/<name>`). `known` passes what the caller already has.
 */
export async function openOneClassRun(
  runs: string,
  map: string | undefined,
  name: string,
  known: {
    config?: OneClassRunConfig;
    dir?: string;
    ownData?: Dataset;
    mapInfo?: MapRunInfo;
  } = {},
): Promise<OneClassRunInfo> {
  const mapInfo = known.mapInfo ?? (map ? await readMapRun(runs, map) : undefined);
  const dir = known.dir ?? (mapInfo ? join(mapInfo.dir, checkRunName(name)) : runPath(runs, name));
  let config = known.config;
  if (!config) {
    try {
      config = JSON.parse(await Deno.readTextFile(join(dir, "config.json"))) as OneClassRunConfig;
    } catch {
      throw new CgvsniError(`${dir}: not a one-class run (no config.json)`);
    }
    if (config.kind !== "oneclass" || config.version !== 2) {
      throw new CgvsniError(`${dir}: not a one-class run of this version (retrain it)`);
    }
  }
  if (mapInfo) {
    return {
      dir,
      config,
      dataset: mapInfo.dataset,
      split: mapInfo.split,
      mapRun: mapInfo,
      matchCompression: mapInfo.config.matchCompression,
    };
  }
  const dataset = known.ownData ??
    await loadDataset(config.dataset!.root, { csv: config.dataset!.csv, naturalOnly: true });
  const splitFile = join(dir, "split.csv");
  let split: SplitEntry[];
  try {
    split = applySplit(dataset.images, await Deno.readTextFile(splitFile), splitFile);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound) || !known.ownData) throw e;
    split = config.fitAll
      ? dataset.images.map((e) => ({ ...e, role: "train" as const }))
      : makeSplit(dataset.images, DEFAULT_FRACTIONS, config.seed);
    await atomicWrite(splitFile, formatSplit(split));
  }
  return { dir, config, dataset, split, matchCompression: config.matchCompression };
}

/**
 * Renames a finished one-class run that the caller would not fit the same way today, so that
 * whoever reuses finished runs (`experiment`, `demo`, `oneclass-matrix`) fits it again, and the
 * old model and its evaluations stay on disk. A run fitted on whole-image features of another
 * version than this toolkit computes goes to `<dir>-v<version>`; with `settings` (what the caller
 * would fit with now, as {@link resolveSettings} gives them), a run saved with other settings, as
 * when a default changed, goes to `<dir>-old` (`-2`, ... appended when taken); with `because`
 * (the map it was fitted on was trained again), any finished run goes there too. Returns the new
 * folder, or undefined when nothing moved.
 *
 * @example A run of version 1 of the residual features is set aside
 * ```ts
 * import { setAsideStale } from "./train.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const dir = `${await Deno.makeTempDir()}/residual-gauss`;
 * await Deno.mkdir(dir);
 * await Deno.writeTextFile(`${dir}/oneclass.json`, JSON.stringify({ provenance: { source: "residual" } }));
 * console.log(await setAsideStale(dir, makeProgress({ quiet: true }))); // .../residual-gauss-v1
 * ```
 */
export async function setAsideStale(
  dir: string,
  log: Progress,
  settings?: AnyOptions,
  because?: string,
): Promise<string | undefined> {
  const saved = await readJsonIfExists<{ provenance?: FeatureProvenance }>(
    join(dir, "oneclass.json"),
  );
  if (!saved) return undefined;
  const version = otherFeatureVersion(saved.provenance);
  let base: string, why: string;
  if (version !== undefined) {
    base = `${dir}-v${version}`;
    why = `fitted on another definition of the ${saved.provenance!.source} features ` +
      `(version ${version}; this toolkit computes version ${
        sourceSpec(saved.provenance!.source as FeatureSource)!.version
      })`;
  } else if (because) {
    base = `${dir}-old`;
    why = because;
  } else {
    const config = await readJsonIfExists<{ settings?: AnyOptions }>(join(dir, "config.json"));
    if (!settings || !config) return undefined;
    const was = canonical(config.settings ?? {}), now = canonical(settings);
    if (was === now) return undefined;
    base = `${dir}-old`;
    why = `fitted with other settings (${was}; now ${now})`;
  }
  let to = base;
  for (let i = 2; await exists(to); i++) to = `${base}-${i}`;
  await Deno.rename(dir, to);
  log.log(`${dir}: ${why}: moved to ${to}, fitting it again`);
  return to;
}

/** JSON with the keys of every object sorted, to compare settings. */
function canonical(v: unknown): string {
  return JSON.stringify(
    v,
    (_, x) =>
      x && typeof x === "object" && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
        : x,
  );
}

/**
 * The settings a one-class run of `kind` on `source` is fitted with, from what it was told: a
 * Gaussian on residual features gets the co-occurrences and the slopes as two parts, the slopes
 * as a check (see residual.ts and gauss.ts), unless told parts or PCA.
 *
 * @example The residual Gaussian's default parts
 * ```ts
 * import { resolveSettings } from "./train.ts";
 * console.log(resolveSettings({}, "residual", "gauss").checks); // ["slope"]
 * ```
 */
export function resolveSettings(
  told: AnyOptions | undefined,
  source: FeatureSource,
  kind: OneClassKind,
): AnyOptions {
  const settings = { ...told };
  if (source === "residual" && kind === "gauss" && !settings.parts && !settings.pca) {
    // the co-occurrences score; the slopes get a Gaussian of their own that only checks: an
    // image too smooth (or too rough) for a camera is not called natural (see gauss.ts)
    settings.parts = [RESIDUAL_PARTS.texture, RESIDUAL_PARTS.slope];
    settings.partNames = ["texture", "slope"];
    settings.checks = ["slope"];
  }
  return settings;
}

/** Resolves a new one-class run's configuration. */
export function resolveOneClassConfig(
  o: TrainOneClassOptions,
  source: FeatureSource,
  kind: OneClassKind,
  mapInfo: MapRunInfo | undefined,
  map: ImageMap | undefined,
  ownData: Dataset | undefined,
): OneClassRunConfig {
  const settings = resolveSettings(o.settings, source, kind);
  if (settings.norm) checkFeatureNorm(settings.norm);
  createOneClass(kind, settings).dispose(); // validates every setting before anything is written
  const threshold = o.threshold ?? defaultThreshold(kind);
  if (!["train", "cv", "cv-source"].includes(threshold)) {
    throw new UsageError(`threshold must be train, cv or cv-source, got "${threshold}"`);
  }
  if (o.fitAll && mapInfo) {
    throw new UsageError(
      "fit-all is for a run of its own (--data): a map run's split is the map's",
    );
  }
  const tiles = oneclassTiles(o.tiles, mapInfo);
  if (!(Number.isInteger(tiles) && tiles >= 1)) {
    throw new UsageError(`tiles must be a positive integer, got ${tiles}`);
  }
  const q = o.matchCompression;
  if (q !== undefined && !(Number.isInteger(q) && q >= 1 && q <= 100)) {
    throw new UsageError(`match-compression must be a JPEG quality in 1..100, got ${q}`);
  }
  if (q !== undefined && mapInfo && mapInfo.config.matchCompression !== q) {
    throw new UsageError(
      `match-compression is the map run's setting (${mapInfo.config.matchCompression ?? "off"}); ` +
        "train the map with it",
    );
  }
  return {
    kind: "oneclass",
    version: 2,
    created: new Date().toISOString(),
    ...(mapInfo ? { mapRun: { name: mapInfo.name, model: map!.sha } } : {}),
    ...(ownData
      ? { dataset: { root: ownData.root, csv: o.csv ? resolve(o.csv) : undefined } }
      : {}),
    features: source,
    oneclass: kind,
    settings,
    threshold,
    tiles,
    matchCompression: mapInfo ? undefined : q,
    pool: poolRoles(source),
    seed: o.seed ?? 0,
    skipBad: !!o.skipBad,
    ...(o.fitAll ? { fitAll: true } : {}),
  };
}

/** Loss, radius and fraction-inside curves of SVDD training, one quantity per axis. */
export function svddPlot(h: SvddEpoch[]): string {
  return renderSvg([
    {
      title: "SVDD objective",
      xLabel: "epoch",
      yLabel: "F(R, c, f)",
      series: [{ name: "train", points: h.map((m) => [m.epoch, m.loss]) }],
    },
    {
      title: "radius",
      xLabel: "epoch",
      yLabel: "R",
      series: [{ name: "R", points: h.map((m) => [m.epoch, m.radius]) }],
    },
    {
      title: "training vectors inside the sphere",
      xLabel: "epoch",
      yLabel: "fraction inside",
      yRange: [0, 1],
      series: [{ name: "inside", points: h.map((m) => [m.epoch, m.inside]) }],
    },
  ]);
}

/** Re-exported so callers need not know the estimator files. */
export type { OneClassEstimator };
