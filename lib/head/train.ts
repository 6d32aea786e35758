/**
 * Training a head (`train-head`): whole-image features of a photograph corpus and of a render
 * dataset, then a head fitted on them ({@link LogisticHead}, or {@link RbfSvmHead} with
 * `model: "rbf"`), in a run folder of its own
 * (`runs/<name>`: `config.json`, the feature cache, `head.json` when done).
 *
 * The photographs are the label-0 images of `natural` (their `Group` column, a source, keeps a
 * source in one fold of the threshold); the renders are the label 1..K images of `renders`, each
 * in a fold group of its own. Every image is read as the detector will read it: decoded, then
 * re-encoded as JPEG at `matchCompression` when given (both classes alike). Unusable images are
 * skipped and named in the run's `skipped-*.txt`.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { CgvsniError, UsageError } from "../core/errors.ts";
import { writeJson } from "../core/files.ts";
import { makeProgress, type Progress, ticker } from "../core/progress.ts";
import { ImageStore } from "../data/cache.ts";
import { loadDataset } from "../data/dataset.ts";
import { decoderInfo } from "../data/decode.ts";
import { photographsAndRenders } from "../data/samples.ts";
import type { SplitEntry } from "../data/split.ts";
import { adoptFeatures, extractFeatures } from "../features/extract.ts";
import { checkSource, type FeatureSource, needsMap } from "../features/sources.ts";
import { MIN_SIDE, provenance } from "../oneclass/train.ts";
import { checkRunName, DEFAULT_RUNS, runPath } from "../runs/folder.ts";
import { openRun } from "../runs/lifecycle.ts";
import { type FeatureHead, type HeadModel, makeHead } from "./heads.ts";

/** The defaults of {@link TrainHeadOptions}. */
export const TRAIN_HEAD_DEFAULTS = {
  features: "mobilenet",
  name: "head",
  model: "linear",
} as const;

/** Options of {@link trainHead}. */
export interface TrainHeadOptions {
  /** Dataset folder of photographs (label 0; the Group column is the source). */
  natural: string;
  /** Another CSV for `natural`. */
  naturalCsv?: string;
  /** Dataset folder whose renders (labels 1..K) are the other class. */
  renders: string;
  /** Another CSV for `renders`. */
  rendersCsv?: string;
  /** Whole-image feature source (default `mobilenet`). */
  features?: string;
  /** Re-encode every image as JPEG at this quality first (default: as decoded). */
  matchCompression?: number;
  /** The head's model (default `linear`). */
  model?: HeadModel;
  /** The model's C (default: the model's own). */
  c?: number;
  /** Share of photographs above the threshold. */
  nu?: number;
  /** Seed of the threshold's folds. */
  seed?: number;
  /** Runs folder (default `runs`). */
  runs?: string;
  /** Run name (default `head`). */
  name?: string;
  /**
   * Other runs' feature caches (their `features/` folders) whose vectors of the same definition
   * are reused image by image (`adoptFeatures`: matched by name and file fingerprint).
   */
  featureCache?: string[];
  /** Progress and log lines. */
  progress?: Progress;
}

/** A head run's `config.json`. */
export interface HeadRunConfig {
  /** Run kind tag. */
  kind: "head";
  /** Whole-image feature source. */
  features: FeatureSource;
  /** JPEG quality every image is re-encoded at first (absent: as decoded). */
  matchCompression?: number;
  /** The head's model (absent in runs from before kernel heads: `linear`). */
  model?: HeadModel;
  /** The model's C. */
  c: number;
  /** Share of photographs above the threshold. */
  nu: number;
  /** Seed of the threshold's folds. */
  seed: number;
  /** The photograph corpus. */
  natural: { root: string; csv?: string };
  /** The render dataset. */
  renders: { root: string; csv?: string };
}

/**
 * Trains a head and writes `runs/<name>/head.json`. The features are cached in the run
 * (`features/`); `cached` says whether every vector came from a cache (this run's, or another's
 * through `featureCache`) rather than being computed.
 *
 * @example Photographs of `dataset/` against its renders, on residual features
 * ```ts
 * import { trainHead } from "./mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * const { head, dir } = await trainHead({ natural: "dataset", renders: "dataset", features: "residual", runs, progress: makeProgress({ quiet: true }) });
 * console.log(dir, head.threshold, head.n); // runs/head, its threshold, 40 photographs and their renders
 * ```
 */
export async function trainHead(
  o: TrainHeadOptions,
): Promise<{ head: FeatureHead; dir: string; skipped: string[]; cached: boolean }> {
  const log = o.progress ?? makeProgress();
  const features = checkSource(o.features ?? TRAIN_HEAD_DEFAULTS.features);
  if (needsMap(features)) {
    throw new UsageError(`a head reads whole-image features, not ${features}`);
  }
  const model = o.model ?? TRAIN_HEAD_DEFAULTS.model;
  // the head as it will be fitted: an unknown model or a bad setting stops here
  const unfitted = makeHead(model, { c: o.c, nu: o.nu, seed: o.seed });
  const name = checkRunName(o.name ?? TRAIN_HEAD_DEFAULTS.name);
  const dir = runPath(resolve(o.runs ?? DEFAULT_RUNS), name);
  const nat = await loadDataset(o.natural, { csv: o.naturalCsv, naturalOnly: true });
  const ren = await loadDataset(o.renders, { csv: o.rendersCsv, rendersOnly: true });
  const { config } = await openRun<HeadRunConfig>({
    dir,
    kind: "head",
    what: "head run",
    resume: false,
    resumable: false, // one fit, no epochs
    finished: "head.json",
    log,
    create: () => ({
      kind: "head",
      features,
      ...(o.matchCompression ? { matchCompression: o.matchCompression } : {}),
      model,
      // the settings as the head takes them, its own defaults filled in
      c: unfitted.c,
      nu: unfitted.nu,
      seed: unfitted.seed,
      natural: { root: nat.root, ...(o.naturalCsv ? { csv: o.naturalCsv } : {}) },
      renders: { root: ren.root, ...(o.rendersCsv ? { csv: o.rendersCsv } : {}) },
    }),
  });
  const store = new ImageStore({
    dir: join(dir, ".cache"),
    ...(config.matchCompression ? { jpegQuality: config.matchCompression } : {}),
  });
  const { photos, renders, skipped } = await photographsAndRenders(nat, ren, store, MIN_SIDE, {
    run: dir,
    log,
    role: "train",
  });
  if (photos.length < 2 || renders.length < 1) {
    throw new CgvsniError(
      `a head needs photographs and renders: ${photos.length} usable in ${nat.root}, ` +
        `${renders.length} in ${ren.root}`,
    );
  }
  const cacheDir = join(dir, "features");
  if (o.featureCache?.length) {
    const k = await adoptFeatures(o.featureCache, cacheDir, { source: features, store });
    log.log(`${k} cached feature list(s) of ${o.featureCache.join(", ")} adopted`);
  }
  const vectors = async (es: SplitEntry[], key: string) => {
    log.start(`${features} features (${key})`, es.length);
    const f = await extractFeatures({
      source: features,
      samples: es.map((entry) => ({ entry, tile: 0 })),
      store,
      view: { kind: "full" },
      cache: { dir: cacheDir, key: `${key}-${features}` },
      onBatch: ticker(log),
    });
    log.end();
    return f;
  };
  const nf = await vectors(photos, "natural"), rf = await vectors(renders, "renders");
  const dim = nf.dim, n = nf.n + rf.n;
  const x = new Float32Array(n * dim);
  x.set(nf.data);
  x.set(rf.data, nf.data.length);
  // folds: a photograph source whole; each render a group of its own (after the sources)
  const sources = [...new Set(photos.map((e) => e.group))].sort();
  if (sources.length === photos.length) {
    log.log(
      `warning: ${nat.root} has one photograph per group (no Group column?): ` +
        `the threshold folds by image, not by source`,
    );
  }
  const groups = [
    ...photos.map((e) => sources.indexOf(e.group)),
    ...renders.map((_, i) => sources.length + i),
  ];
  const y = [...photos.map(() => 0), ...renders.map(() => 1)];
  const head = makeHead(model, { c: config.c, nu: config.nu, seed: config.seed })
    .fit(x, n, dim, y, groups);
  const renderers = ren.classes.filter((c) => c.label > 0);
  head.provenance = {
    ...provenance(features, undefined, config.matchCompression, await decoderInfo()),
    features,
    natural: config.natural,
    renders: config.renders,
    sources: sources.length,
    renderers: renderers.map((c) => ({
      label: c.label,
      name: c.name,
      images: renders.filter((e) => e.label === c.label).length,
    })),
  };
  await writeJson(join(dir, "head.json"), head.toJSON());
  log.log(
    `head run ${dir}: ${model} head on ${features} features, ${photos.length} photographs of ${sources.length} ` +
      `sources against ${renders.length} renders; threshold p(CG) ${head.threshold.toFixed(4)}`,
  );
  return { head, dir, skipped, cached: nf.cached && rf.cached };
}
