/**
 * A map run: the folder `train-map` writes (`runs/<name>/`), its schema, and opening it. Every
 * later stage (features, one-class, evaluation, detection, the report) starts from
 * {@link openMapRun} or {@link readMapRun}, so the checks and the re-reading of the split are
 * written once.
 *
 * ```
 * runs/<name>/
 *   config.json      MapRunConfig (what --resume reuses)
 *   split.csv        every image's role (train / val / flow / test / unused)
 *   norm.json        per-channel mean and std of the training crops
 *   metrics.jsonl    one line per epoch; training.svg
 *   checkpoints/     epoch-NNNN/ (model, optimiser state)
 *   model/           the trained ENet: model.json + model.bin
 *   features/        cached feature vectors (see lib/features)
 *   <one-class run>/ e.g. flow/: a one-class model on this map's features
 * ```
 *
 * @module
 */

import { join } from "node:path";
import type { Location } from "../core/bundle.ts";
import { CgvsniError } from "../core/errors.ts";
import { exists, readJsonIfExists } from "../core/files.ts";
import type { ChannelStats } from "../data/batch.ts";
import { type Dataset, loadDataset } from "../data/dataset.ts";
import type { Sampler } from "../data/sampler.ts";
import { applySplit, type SplitEntry } from "../data/split.ts";
import { runPath } from "../runs/folder.ts";
import type { ENet, ENetConfig } from "./enet.ts";
import { loadENet } from "./io.ts";

/** Training protocols: `default` (the method description) or `paper` (the authors' code). */
export type Protocol = "default" | "paper";

/** A class of the dataset: its label and name. */
export interface ClassRef {
  /** Label in dataset.csv. */
  label: number;
  /** Class name (its top-level folder). */
  name: string;
}

/** Augmentations of the map's training crops (see lib/data/augment.ts). */
export type AugmentName = "random-crop-flip" | "jpeg" | "blur" | "resize" | "noise";

/** The resolved configuration of a map run, saved as `config.json`. */
export interface MapRunConfig {
  /** Marks an image-map run. */
  kind: "map";
  /** Format version of this file (version 1 runs are read too). */
  version: 2;
  /** When the run started (ISO 8601). */
  created: string;
  /** Dataset folder and CSV (absolute paths). */
  dataset: { root: string; csv?: string };
  /** The renderers the map learns against (natural vs their union). */
  renderers: ClassRef[];
  /** Architecture. */
  enet: ENetConfig;
  /** Training protocol. */
  protocol: Protocol;
  /** Optimisation and data settings, defaults resolved. */
  train: {
    epochs: number;
    batchSize: number;
    /** Learning rate used. */
    lr: number;
    lrStep: number;
    lrGamma: number;
    momentum: number;
    l1: number;
    sampler: Sampler;
    /** Augmentations of the training crops (none: empty). */
    augment: AugmentName[];
    /** Probability of each pixel augmentation per crop. */
    augmentP: number;
    /** Crops per image side (tiles x tiles crops per image; 1 = the centre crop). */
    tiles: number;
    init: "kaiming" | "paper";
    normalisation: "dataset" | "half";
  };
  /** Every image is re-encoded once as JPEG at this quality before anything else (none: off). */
  matchCompression?: number;
  /** Seed of the split, initialisation, sampling and dropout. */
  seed: number;
  /** Split fractions (natural: train, val, flow, test; rendered: train, val, test) or the list folder. */
  split: { natural: number[]; cg: number[]; files?: string };
  /** Pixel limit for decoding. */
  maxPixels?: number;
  /** Skip unusable images instead of stopping. */
  skipBad: boolean;
  /**
   * The backend and thread count that trained it (`native, 2 thread(s)`). Training is
   * bit-reproducible for a seed only with the same ones: pass `--threads` to match.
   */
  computedOn?: string;
}

/** The renderers a map learned against, as one name (`Cycles`, `EEVEE+POVRay`). */
export function renderersName(c: Pick<MapRunConfig, "renderers">): string {
  return c.renderers.map((r) => r.name).join("+");
}

/** A configuration read from disk, version 1 (one renderer, one augmentation) brought up to 2. */
export function upgradeConfig(c: MapRunConfig): MapRunConfig {
  const old = c as unknown as {
    version?: number;
    renderer?: ClassRef;
    train: { augment: string | AugmentName[]; augmentP?: number };
  };
  if (old.version === 2) return c;
  return {
    ...c,
    version: 2,
    renderers: old.renderer ? [old.renderer] : c.renderers,
    train: {
      ...c.train,
      augment: Array.isArray(old.train.augment)
        ? old.train.augment
        : old.train.augment === "none"
        ? []
        : [old.train.augment as AugmentName],
      augmentP: old.train.augmentP ?? 0.5,
    },
  };
}

/** A trained image map: the network, the normalisation it was trained with, its checksum. */
export interface ImageMap {
  /** The ENet (inference mode is chosen per call). */
  net: ENet;
  /** Per-channel normalisation of its input. */
  norm: ChannelStats;
  /** SHA-256 of the weights file: features cached for another map are never reused. */
  sha: string;
}

/**
 * Loads the image map saved at `dir` (a run's `model/` folder, a detector folder, a URL).
 *
 * @example Load a trained map (a run's model/ folder, a detector folder, a URL)
 * ```ts
 * import { loadImageMap } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const map = await loadImageMap(new URL("../../models/cgbench-small/", import.meta.url));
 * console.log(map.net.cfg.crop, map.sha.slice(0, 8));
 * map.net.dispose();
 * ```
 */
export async function loadImageMap(dir: Location, stem = "model"): Promise<ImageMap> {
  const { net, norm, manifest } = await loadENet(dir, stem);
  return { net, norm, sha: manifest.sha256 as string };
}

/** A map run's configuration, dataset and split (no tensors). */
export interface MapRunInfo {
  /** Run name. */
  name: string;
  /** Run folder (absolute). */
  dir: string;
  /** Its configuration. */
  config: MapRunConfig;
  /** The dataset it was trained on. */
  dataset: Dataset;
  /** Every image's role. */
  split: SplitEntry[];
}

/**
 * Reads a map run's configuration, dataset and split. `checkFiles: false` skips checking that
 * every image still exists (the report only needs the counts).
 *
 * @example A map run's configuration and split, without tensors
 * ```ts
 * import { readMapRun, trainMap } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * await initBackend("auto");
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress: makeProgress({ quiet: true }) });
 * const run = await readMapRun(runs, "m");
 * console.log(run.split.filter((e) => e.role === "test").length);
 * ```
 */
export async function readMapRun(
  runs: string,
  name: string,
  opts: { checkFiles?: boolean } = {},
): Promise<MapRunInfo> {
  const dir = runPath(runs, name);
  const saved = await readJsonIfExists<MapRunConfig>(join(dir, "config.json"));
  if (!saved || saved.kind !== "map") {
    throw new CgvsniError(`${dir}: not a map run (no config.json)`);
  }
  const config = upgradeConfig(saved);
  const dataset = await loadDataset(config.dataset.root, {
    csv: config.dataset.csv,
    checkFiles: opts.checkFiles,
  });
  const splitFile = join(dir, "split.csv");
  const split = applySplit(dataset.images, await Deno.readTextFile(splitFile), splitFile);
  return { name, dir, config, dataset, split };
}

/** A finished map run with its trained image map loaded. */
export interface MapRun extends MapRunInfo {
  /** The trained map (dispose `map.net` when done). */
  map: ImageMap;
}

/**
 * Opens a finished map run: {@link readMapRun} plus its trained model.
 *
 * @example A finished map run: config, dataset, split and model
 * ```ts
 * import { openMapRun, trainMap } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * await initBackend("auto");
 * await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress: makeProgress({ quiet: true }) });
 * const run = await openMapRun(runs, "m");
 * console.log(run.config.renderers.map((r) => r.name), run.split.length, run.map.net.cfg.crop);
 * run.map.net.dispose();
 * ```
 */
export async function openMapRun(runs: string, name: string): Promise<MapRun> {
  const info = await readMapRun(runs, name);
  if (!(await exists(join(info.dir, "model", "model.json")))) {
    throw new CgvsniError(
      `${info.dir}: the map has not finished training (no model/); resume it first`,
    );
  }
  return { ...info, map: await loadImageMap(join(info.dir, "model")) };
}
