/**
 * Training the image map (ENet) on natural images and the images of one or more renderers: the
 * first stage of the method, from a dataset folder to a map run, readable top to bottom.
 *
 * 1. the configuration, new or read back when resuming (lib/runs/lifecycle.ts);
 * 2. the dataset and its split (made once, reused by every later stage);
 * 3. every training and validation image decoded once (re-encoded as JPEG first with
 *    `matchCompression`), failing before the first step on a bad one;
 * 4. per-channel normalisation from the training crops;
 * 5. the epoch loop (lib/runs/loop.ts): balanced batches, augmented crops, SGD with momentum on
 *    cross-entropy, validation with the recall of every class;
 * 6. the final model in `model/`;
 * 7. the head's threshold, set on the natural `val` and `oneclass` images (threshold.ts).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { loadBundle, saveBundle } from "../core/bundle.ts";
import { CgvsniError, UsageError } from "../core/errors.ts";
import { atomicWrite, readJsonIfExists, writeJson } from "../core/files.ts";
import { renderSvg } from "../core/plot.ts";
import { makeProgress, type Progress } from "../core/progress.ts";
import { Rng } from "../core/rng.ts";
import { type BackendName, initBackend } from "../backends/select.ts";
import { SgdMomentum, stepLr } from "../backends/optim.ts";
import { type Augmentation, augmentedCrop, checkAugmentP, parseAugment } from "../data/augment.ts";
import { type ChannelStats, channelStats, HALF_STATS, toBatch } from "../data/batch.ts";
import { ImageStore, type View } from "../data/cache.ts";
import { type Dataset, loadDataset } from "../data/dataset.ts";
import { epochBatches, type Sampler } from "../data/sampler.ts";
import { cropOf, originOf, type Sample, samplesOf, tilesView, usable } from "../data/samples.ts";
import {
  applySplit,
  DEFAULT_FRACTIONS,
  formatSplit,
  makeSplit,
  parseFractions,
  splitCounts,
  type SplitEntry,
  type SplitFractions,
  splitFromLists,
} from "../data/split.ts";
import { openRun } from "../runs/lifecycle.ts";
import { trainLoop } from "../runs/loop.ts";
import { DEFAULT_RUNS, ensureDir, runPath } from "../runs/folder.ts";
import { ENet, type ENetConfig, minCrop, parameterCount, PRESETS, shapes } from "./enet.ts";
import { loadENet, saveENet } from "./io.ts";
import {
  type ClassRef,
  loadImageMap,
  type MapRunConfig,
  type Protocol,
  renderersName,
} from "./run.ts";
import { setHeadThreshold } from "./threshold.ts";
import { firstNonFinite, trainStep, validate, type Validation } from "./step.ts";

/** The in-memory crop cache of map training, in MiB, unless told another (`--cache-memory`). */
export const DEFAULT_CACHE_MB = 1024;

/** Everything `train-map` can be told; unset fields take the protocol's defaults. */
export interface TrainMapOptions {
  /** Dataset root (holding `dataset.csv`). */
  data: string;
  /** Another CSV instead of `<data>/dataset.csv`. */
  csv?: string;
  /** Parent folder of run folders (default `runs`). */
  runs?: string;
  /** Run name (default: the current date and time). */
  name?: string;
  /** Continue the run `name` from its last checkpoint. */
  resume?: boolean;
  /** Architecture preset: `small` or `paper`. */
  preset?: string;
  /** Overrides of the preset. */
  crop?: number;
  /** Channels of the branch convolutions (preset: small 16, paper 64). */
  width?: number;
  /** Width of L8 and L9 (preset: small 256, paper 4096). */
  fc?: number;
  /** Learn the SRM kernels instead of keeping them fixed. */
  trainSrm?: boolean;
  /** Dropout rate after L8 and L9 (0.5). */
  dropout?: number;
  /** Training protocol (default `default`). */
  protocol?: Protocol;
  /**
   * The renderers the map learns against: folder names or labels separated by commas, or `all`
   * (default: label 1).
   */
  renderer?: string;
  /** Epochs to train. */
  epochs?: number;
  /** Images per batch. */
  batchSize?: number;
  /** Initial learning rate. */
  lr?: number;
  /** Multiply the learning rate by 0.1 every this many epochs. */
  lrStep?: number;
  /** SGD momentum (0.9). */
  momentum?: number;
  /** L1 penalty on non-bias weights (paper: 1e-4). */
  l1?: number;
  /** How batches are drawn (`balanced` by default). */
  sampler?: Sampler;
  /** Augmentations of the training crops: `none` or a list (see lib/data/augment.ts). */
  augment?: string | Augmentation[];
  /** Probability of each pixel augmentation per crop (0.5). */
  augmentP?: number;
  /** Re-encode every image once as JPEG at this quality before anything else. */
  matchCompression?: number;
  /** Train on a grid of tiles x tiles crops per image instead of the centre crop only. */
  tiles?: number;
  /** Seed of the split, initialisation, sampling and dropout. */
  seed?: number;
  /** Natural images: fractions for map train, map validation, one-class pool, test. */
  naturalSplit?: string;
  /** Rendered images: fractions for map train, map validation, test. */
  cgSplit?: string;
  /** Folder of the authors' split lists instead of a seeded split. */
  splitFiles?: string;
  /** An existing split (a run's `split.csv`) to reuse instead of drawing one. */
  splitCsv?: string;
  /** Checkpoints kept (newest first). */
  keepCheckpoints?: number;
  /** Refuse images with more pixels than this. */
  maxPixels?: number;
  /** Crop cache folder (default `<runs>/.cache`). */
  cacheDir?: string;
  /** In-memory crop cache budget, MiB. */
  cacheMemoryMb?: number;
  /** Skip unusable images (listed in `skipped.txt`) instead of stopping. */
  skipBad?: boolean;
  /** tfjs backend (`auto` by default). */
  backend?: BackendName;
  /** Stop after this many epochs of this invocation (for tests and time-boxed jobs). */
  stopAfter?: number;
  /** Progress/log sink (default: stderr). */
  progress?: Progress;
}

/** What `trainMap` returns. */
export interface TrainMapResult {
  /** The run folder. */
  run: string;
  /** The resolved configuration. */
  config: MapRunConfig;
  /** Per-epoch metrics, oldest first. */
  epochs: EpochMetrics[];
  /** Wall time of this invocation. */
  seconds: number;
}

/** One line of `metrics.jsonl`. */
export interface EpochMetrics extends Validation {
  /** 1-based epoch. */
  epoch: number;
  /** Learning rate used. */
  lr: number;
  /** Mean training loss. */
  loss: number;
  /** Training accuracy (dropout on, batch statistics). */
  train_acc: number;
  /** Wall time of the epoch, validation and checkpoint included. */
  seconds: number;
  /** Training crops per second. */
  images_per_second: number;
}

/** The training settings of each protocol: the one place their defaults are stated. */
export const PROTOCOL_DEFAULTS: Record<Protocol, Omit<MapRunConfig["train"], "momentum">> = {
  default: {
    epochs: 60,
    batchSize: 16,
    lr: 1e-3,
    lrStep: 20,
    lrGamma: 0.1,
    l1: 0,
    sampler: "balanced",
    augment: [],
    augmentP: 0.5,
    tiles: 1,
    init: "kaiming",
    normalisation: "dataset",
  },
  paper: {
    epochs: 300,
    batchSize: 32,
    lr: 1e-3,
    lrStep: 100,
    lrGamma: 0.1,
    l1: 1e-4,
    sampler: "balanced",
    augment: ["random-crop-flip"],
    augmentP: 0.5,
    tiles: 1,
    init: "paper",
    normalisation: "half",
  },
};

/**
 * The small network learns faster with a larger step than the paper's 1e-3 (measured on
 * cgbench: natural vs Cycles reaches 100 % validation accuracy in 60 epochs at 1e-2).
 */
export const SMALL_PRESET_LR = 1e-2;

/** SGD momentum of every protocol. */
export const MOMENTUM = 0.9;

/**
 * Trains (or resumes) an image map.
 *
 * @example Train a tiny map on the shipped dataset, natural vs every renderer
 * ```ts
 * import { trainMap } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const runs = await Deno.makeTempDir();
 * await initBackend("auto");
 * const res = await trainMap({ data: "dataset", runs, name: "m", renderer: "all", crop: 80, width: 4, fc: 8, epochs: 1, progress: makeProgress({ quiet: true }) });
 * console.log(res.run, res.epochs[0].val_recall);
 * ```
 */
export async function trainMap(opts: TrainMapOptions): Promise<TrainMapResult> {
  const t0 = performance.now();
  const log = opts.progress ?? makeProgress();
  const runs = resolve(opts.runs ?? DEFAULT_RUNS);

  // 1. Configuration: new, or read back from the run folder when resuming.
  const name = opts.name ??
    (opts.resume ? undefined : new Date().toISOString().slice(0, 19).replace(/:/g, "-"));
  if (!name) throw new UsageError("resume needs the name of the run to continue");
  const run = runPath(runs, name);
  const fresh = opts.resume ? undefined : await loadDataset(opts.data, { csv: opts.csv });
  const backend = await initBackend(opts.backend ?? "auto");
  for (const n of backend.notices) log.log(`notice: ${n}`);
  const computedOn = `${backend.name}${backend.threads ? `, ${backend.threads} thread(s)` : ""}`;
  const { config } = await openRun<MapRunConfig>({
    dir: run,
    kind: "map",
    what: "map run",
    resume: !!opts.resume,
    create: () => ({ ...resolveConfig(opts, fresh!), computedOn }),
    finished: "model/model.json",
    log,
    // --epochs may be given again on resume to train longer (below); these may not change
    given: [
      ["protocol", "protocol", opts.protocol],
      ["enet.crop", "crop", opts.crop],
      ["enet.width", "width", opts.width],
      ["enet.fc", "fc", opts.fc],
      ["enet.dropout", "dropout", opts.dropout],
      ["train.batchSize", "batch-size", opts.batchSize],
      ["train.lr", "lr", opts.lr],
      ["train.lrStep", "lr-step", opts.lrStep],
      ["train.momentum", "momentum", opts.momentum],
      ["train.sampler", "sampler", opts.sampler],
      ["train.tiles", "tiles", opts.tiles],
      ["matchCompression", "match-compression", opts.matchCompression],
      ["seed", "seed", opts.seed],
    ],
  });
  if (opts.resume) {
    if (opts.epochs !== undefined && opts.epochs !== config.train.epochs) {
      log.log(`resume: epochs ${config.train.epochs} -> ${opts.epochs}`);
      config.train.epochs = opts.epochs;
    }
    if (opts.skipBad) config.skipBad = true;
    if (config.computedOn && config.computedOn !== computedOn) {
      log.log(
        `note: this run started on ${config.computedOn} and continues on ${computedOn}; ` +
          "it will differ slightly from an uninterrupted run (match the thread count to reproduce it)",
      );
    }
    await writeJson(join(run, "config.json"), config);
  }

  // 2. Dataset and split.
  const ds = fresh ?? await loadDataset(config.dataset.root, { csv: config.dataset.csv });
  const splitFile = join(run, "split.csv");
  let split: SplitEntry[];
  if (opts.resume || opts.splitCsv) {
    const from = opts.resume ? splitFile : resolve(opts.splitCsv!);
    split = applySplit(ds.images, await Deno.readTextFile(from), from);
  } else {
    split = config.split.files
      ? await splitFromLists(ds.images, config.split.files)
      : makeSplit(ds.images, fractionsOf(config), config.seed);
  }
  let { train, val } = mapTrainingSets(split, config.renderers);
  for (const [what, set] of [["training", train], ["validation", val]] as const) {
    for (const c of [{ label: 0, name: "natural" }, ...config.renderers]) {
      if (!set.some((e) => e.label === c.label)) {
        throw new CgvsniError(
          `the ${what} split has no ${c.name} images: the dataset is too small for the split fractions`,
        );
      }
    }
  }
  if (!opts.resume) await atomicWrite(splitFile, formatSplit(split));
  const rendererNames = renderersName(config);
  log.log(`run ${run}`);
  log.log(
    `backend ${backend.name} (${backend.detail}); ENet ${
      parameterCount(config.enet).toLocaleString("en")
    } parameters, crop ${config.enet.crop}; natural vs ${rendererNames}` +
      (config.matchCompression
        ? `; every image re-encoded as JPEG ${config.matchCompression}`
        : ""),
  );
  for (const [label, c] of splitCounts(split)) {
    const cls = ds.classes.find((k) => k.label === label)!;
    log.log(
      `  ${
        cls.name.padEnd(12)
      } train ${c.train} val ${c.val} one-class ${c.oneclass} test ${c.test} ` +
        `unused ${c.unused}`,
    );
  }

  // 3. Decode every image the map needs, once, before the first step.
  const crop = config.enet.crop, { tiles, augment, augmentP } = config.train;
  const view: View = augment.length === 0
    ? tilesView(crop, tiles)
    : { kind: "full", tiles: { size: crop, perSide: tiles } };
  const store = new ImageStore({
    dir: opts.cacheDir ?? join(runs, ".cache"),
    memoryBytes: (opts.cacheMemoryMb ?? DEFAULT_CACHE_MB) * 1024 * 1024,
    maxPixels: config.maxPixels,
    jpegQuality: config.matchCompression,
  });
  const ok = new Set(
    await usable([...train, ...val], store, view, crop, {
      skipBad: config.skipBad,
      run,
      log,
      what: "training",
    }),
  );
  train = train.filter((e) => ok.has(e));
  val = val.filter((e) => ok.has(e));
  // A sample is one crop: a tile of an image (the centre crop when tiles is 1); with
  // augmentation it is cut (and perturbed) anew from the whole image each epoch.
  const trainSamples = await samplesOf(train, store, view);
  const valSamples = await samplesOf(val, store, view);
  const plainCrop = (s: Sample) => cropOf(s, store, view, crop);
  const trainCrop = async (s: Sample, rng: Rng) => {
    if (augment.length === 0) return await plainCrop(s);
    const img = await store.get(s.entry.path, view);
    return await augmentedCrop(img, crop, originOf(s, img, view, crop), augment, augmentP, rng);
  };

  // 4. Normalisation statistics from the training crops (or the paper's fixed [-1, 1]).
  let norm: ChannelStats;
  const saved = await readJsonIfExists<ChannelStats>(join(run, "norm.json"));
  if (opts.resume && saved) norm = saved;
  else {
    norm = config.train.normalisation === "half"
      ? HALF_STATS
      : channelStats(await Promise.all(trainSamples.map(plainCrop)));
    await writeJson(join(run, "norm.json"), norm);
  }

  // 5. Model and optimiser, and the epoch loop.
  const net = ENet.create(config.enet, config.seed, config.train.init);
  const opt = new SgdMomentum(net.trainable(), config.train.momentum);
  const classOf = trainSamples.map((s) => s.entry.label);
  const names = new Map(ds.classes.map((c) => [c.label, c.name]));
  const { batchSize, epochs } = config.train;
  const { history, finished } = await trainLoop<EpochMetrics>({
    run,
    epochs,
    resume: !!opts.resume,
    log,
    keep: opts.keepCheckpoints,
    stopAfter: opts.stopAfter,
    async restore(dir) {
      const { net: loaded } = await loadENet(dir, "model");
      net.load(await loaded.values());
      loaded.dispose();
      opt.load((await loadBundle(dir, "optim")).arrays);
    },
    async save(dir) {
      await saveENet(dir, net, norm, "model");
      await saveBundle(dir, "optim", "cgvsni-sgd/1", await opt.state());
    },
    firstNonFinite: () => firstNonFinite(net),
    async epoch(epoch, guard, at) {
      const te = performance.now();
      const lr = stepLr(config.train.lr, epoch, config.train.lrStep, config.train.lrGamma);
      const batches = epochBatches(classOf, batchSize, epoch, config.seed, config.train.sampler);
      const aug = new Rng(`augment:${config.seed}:${epoch}`);
      // going on mid-epoch (after SIGTERM): the sums so far, and the augmentation draws replayed
      const first = at.from?.batch ?? 0;
      let [lossSum, correct, seen] = (at.from?.carry as number[] | undefined) ?? [0, 0, 0];
      for (const idx of batches.slice(0, first)) idx.forEach(() => aug.seed());
      log.start(`epoch ${epoch}/${epochs}`, batches.length);
      if (first) log.tick(first);
      for (const [b, idx] of batches.entries()) {
        if (b < first) continue;
        const seeds = idx.map(() => aug.seed()); // drawn in order, whatever the decode order
        const crops = await Promise.all(
          idx.map((i, k) => trainCrop(trainSamples[i], new Rng(seeds[k]))),
        );
        const y = idx.map((i) => (classOf[i] === 0 ? 0 : 1));
        const dropoutSeed = config.seed * 100003 + epoch * 1009 + b;
        const { loss, hits } = await trainStep(net, opt, toBatch(crops, norm), y, {
          lr,
          l1: config.train.l1,
          dropoutSeed,
        });
        guard(loss, `the loss at epoch ${epoch}, batch ${b + 1}`);
        lossSum += loss * idx.length;
        correct += hits;
        seen += idx.length;
        log.tick(1, `loss ${(lossSum / seen).toFixed(4)}`);
        if (at.stop() && b + 1 < batches.length) {
          log.end();
          return { interrupted: { batch: b + 1, carry: [lossSum, correct, seen] } };
        }
      }
      log.end();
      const v = await validate(net, valSamples, plainCrop, norm, names);
      const seconds = (performance.now() - te) / 1000;
      return {
        epoch,
        lr,
        loss: lossSum / seen,
        train_acc: correct / seen,
        ...v,
        seconds: +seconds.toFixed(2),
        images_per_second: +(seen / seconds).toFixed(2),
      };
    },
    plot: trainingPlot,
    line: (m) =>
      `epoch ${m.epoch}/${epochs} lr ${m.lr.toExponential(1)} loss ${m.loss.toFixed(4)} acc ${
        m.train_acc.toFixed(3)
      } | val loss ${m.val_loss.toFixed(4)} acc ${m.val_acc.toFixed(3)} (images ${
        m.val_image_acc.toFixed(3)
      }) (natural ${m.val_recall_natural.toFixed(3)}, ${
        Object.entries(m.val_recall).map(([k, r]) => `${k} ${r.toFixed(3)}`).join(", ")
      }) | ${m.seconds.toFixed(1)}s, ${m.images_per_second} img/s`,
  });

  // 6. The final model.
  if (finished) {
    await ensureDir(join(run, "model"));
    await saveENet(join(run, "model"), net, norm, "model", {
      renderers: config.renderers,
      epochs,
      metrics: history[history.length - 1],
    });
    log.log(`model saved in ${join(run, "model")}`);
  }
  opt.dispose();
  net.dispose();

  // 7. The head's threshold, on natural images the map never trained on (threshold.ts).
  if (finished) {
    const map = await loadImageMap(join(run, "model"));
    try {
      await setHeadThreshold({ name, dir: run, config, dataset: ds, split }, map, {
        cacheDir: opts.cacheDir ?? join(runs, ".cache"),
        progress: log,
      });
    } finally {
      map.net.dispose();
    }
  }
  return { run, config, epochs: history, seconds: (performance.now() - t0) / 1000 };
}

/** The loss and accuracy curves of a run as SVG. */
export function trainingPlot(h: EpochMetrics[]): string {
  return renderSvg([
    {
      title: "loss",
      xLabel: "epoch",
      yLabel: "cross-entropy",
      series: [
        { name: "train", points: h.map((m) => [m.epoch, m.loss]) },
        { name: "validation", points: h.map((m) => [m.epoch, m.val_loss]), dashed: true },
      ],
    },
    {
      title: "accuracy",
      xLabel: "epoch",
      yLabel: "accuracy",
      yRange: [0, 1],
      series: [
        { name: "train", points: h.map((m) => [m.epoch, m.train_acc]) },
        { name: "validation", points: h.map((m) => [m.epoch, m.val_acc]), dashed: true },
      ],
    },
  ]);
}

/**
 * The images the map learns from: the natural images and those of the learned renderers, in the
 * split's `train` and `val` roles. Every other renderer (the held-out one in leave-one-renderer-out)
 * is left out whatever its role, so only its `test` images are ever scored.
 *
 * @example Natural vs renderer 1; renderer 2 is held out
 * ```ts
 * import { mapTrainingSets } from "./train.ts";
 * const split = [
 *   { name: "a.png", label: 0, role: "train" as const },
 *   { name: "b.png", label: 1, role: "train" as const },
 *   { name: "c.png", label: 2, role: "train" as const },
 * ];
 * console.log(mapTrainingSets(split, [{ label: 1, name: "Cycles" }]).train.length); // 2
 * ```
 */
export function mapTrainingSets<E extends Pick<SplitEntry, "label" | "role">>(
  split: E[],
  renderers: ClassRef[],
): { train: E[]; val: E[] } {
  const learned = new Set(renderers.map((r) => r.label));
  const inMap = (e: E) => e.label === 0 || learned.has(e.label);
  return {
    train: split.filter((e) => e.role === "train" && inMap(e)),
    val: split.filter((e) => e.role === "val" && inMap(e)),
  };
}

/**
 * The renderers named by `--renderer`: folder names or labels separated by commas, `all` for
 * every renderer of the dataset; default label 1.
 */
export function pickRenderers(ds: Dataset, which?: string): ClassRef[] {
  const renderers = ds.classes.filter((c) => c.label > 0);
  const listed = () => renderers.map((c) => `${c.label} ${c.name}`).join(", ");
  if (which === undefined || which.trim() === "") {
    return [{ label: renderers[0].label, name: renderers[0].name }];
  }
  if (which.trim().toLowerCase() === "all") {
    return renderers.map((c) => ({ label: c.label, name: c.name }));
  }
  const out: ClassRef[] = [];
  for (const w of which.split(",").map((s) => s.trim()).filter(Boolean)) {
    const hit = renderers.find((c) =>
      c.name.toLowerCase() === w.toLowerCase() || String(c.label) === w
    );
    if (!hit) throw new UsageError(`renderer ${w} is not in the dataset (renderers: ${listed()})`);
    if (!out.some((r) => r.label === hit.label)) out.push({ label: hit.label, name: hit.name });
  }
  return out.sort((a, b) => a.label - b.label);
}

function fractionsOf(c: MapRunConfig): SplitFractions {
  const [t, v, f, s] = c.split.natural, [ct, cv, cs] = c.split.cg;
  return {
    natural: { train: t, val: v, oneclass: f, test: s },
    cg: { train: ct, val: cv, test: cs },
  };
}

/** The training defaults for a protocol and preset (the small preset's learning rate differs). */
export function mapDefaults(protocol: Protocol, preset: string): MapRunConfig["train"] {
  const d = PROTOCOL_DEFAULTS[protocol];
  return {
    ...d,
    lr: preset === "small" && protocol === "default" ? SMALL_PRESET_LR : d.lr,
    momentum: MOMENTUM,
  };
}

/** Builds the configuration of a new run from options, the dataset and the protocol defaults. */
export function resolveConfig(o: TrainMapOptions, ds: Dataset): MapRunConfig {
  const protocol = o.protocol ?? "default";
  if (!(protocol in PROTOCOL_DEFAULTS)) {
    throw new UsageError(`protocol must be default or paper, got "${protocol}"`);
  }
  const presetName = o.preset ?? (protocol === "paper" ? "paper" : "small");
  const preset = PRESETS[presetName];
  if (!preset) {
    throw new UsageError(
      `preset must be one of ${Object.keys(PRESETS).join(", ")}, got "${presetName}"`,
    );
  }
  const enet: ENetConfig = {
    ...preset,
    crop: o.crop ?? preset.crop,
    width: o.width ?? preset.width,
    fc: o.fc ?? preset.fc,
    trainSrm: o.trainSrm ?? preset.trainSrm,
    dropout: o.dropout ?? preset.dropout,
  };
  if (!(enet.dropout >= 0 && enet.dropout < 1)) {
    throw new UsageError(`dropout must be in [0, 1), got ${enet.dropout}`);
  }
  for (const [k, v] of [["crop", enet.crop], ["width", enet.width], ["fc", enet.fc]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new UsageError(`${k} must be a positive integer, got ${v}`);
    }
  }
  if (enet.crop < minCrop()) {
    throw new UsageError(`crop ${enet.crop} is too small for ENet (minimum ${minCrop()})`);
  }
  shapes(enet);
  const d = mapDefaults(protocol, presetName);
  const train: MapRunConfig["train"] = {
    ...d,
    epochs: o.epochs ?? d.epochs,
    batchSize: o.batchSize ?? d.batchSize,
    lr: o.lr ?? d.lr,
    lrStep: o.lrStep ?? d.lrStep,
    l1: o.l1 ?? d.l1,
    sampler: o.sampler ?? d.sampler,
    augment: o.augment === undefined
      ? d.augment
      : Array.isArray(o.augment)
      ? parseAugment(o.augment.join(","))
      : parseAugment(o.augment),
    augmentP: checkAugmentP(o.augmentP ?? d.augmentP),
    tiles: o.tiles ?? d.tiles,
    momentum: o.momentum ?? d.momentum,
  };
  if (!Number.isInteger(train.epochs) || train.epochs < 1) {
    throw new UsageError("epochs must be a positive integer");
  }
  if (!Number.isInteger(train.batchSize) || train.batchSize < 2) {
    throw new UsageError("batchSize must be at least 2");
  }
  if (!(train.lr > 0)) throw new UsageError("lr must be positive");
  if (!["balanced", "shuffle"].includes(train.sampler)) {
    throw new UsageError("sampler must be balanced or shuffle");
  }
  const q = o.matchCompression;
  if (q !== undefined && !(Number.isInteger(q) && q >= 1 && q <= 100)) {
    throw new UsageError(`matchCompression must be a JPEG quality in 1..100, got ${q}`);
  }
  const natural = o.naturalSplit
    ? parseFractions(o.naturalSplit, 4, "naturalSplit")
    : Object.values(DEFAULT_FRACTIONS.natural);
  const cg = o.cgSplit
    ? parseFractions(o.cgSplit, 3, "cgSplit")
    : Object.values(DEFAULT_FRACTIONS.cg);
  return {
    kind: "map",
    version: 2,
    created: new Date().toISOString(),
    dataset: { root: ds.root, csv: o.csv ? resolve(o.csv) : undefined },
    renderers: pickRenderers(ds, o.renderer),
    enet,
    protocol,
    train,
    matchCompression: q,
    seed: o.seed ?? 0,
    split: { natural, cg, files: o.splitFiles ? resolve(o.splitFiles) : undefined },
    maxPixels: o.maxPixels,
    skipBad: !!o.skipBad,
  };
}
