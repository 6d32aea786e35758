/**
 * Training the image map (ENet) on natural images and the images of one renderer: the first
 * stage of the method, from a dataset folder to a run folder, readable top to bottom.
 *
 * 1. resolve the configuration (or read it back when resuming);
 * 2. load the dataset and make (or reuse) the split;
 * 3. decode every training and validation image once, failing before the first step on a bad one;
 * 4. per-channel normalisation from the training crops;
 * 5. the epoch loop: SGD with momentum on cross-entropy, validation, metrics, plot, checkpoint;
 * 6. save the final model.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { tf } from "./deps.ts";
import { type BackendName, initBackend } from "./backend.ts";
import { loadBundle, saveBundle } from "./bundle.ts";
import { type ChannelStats, channelStats, HALF_STATS, toBatch } from "./data/batch.ts";
import { ImageStore, type View } from "./data/cache.ts";
import { type Dataset, loadDataset } from "./data/dataset.ts";
import { cropAt, flipHorizontal, type RgbImage } from "./data/image.ts";
import { epochBatches, type Sampler } from "./data/sampler.ts";
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
} from "./data/split.ts";
import {
  type BatchMoments,
  ENet,
  type ENetConfig,
  minCrop,
  parameterCount,
  PRESETS,
  shapes,
} from "./enet.ts";
import { CgvsniError, ImageError, NumericalError, UsageError } from "./errors.ts";
import { appendLine, atomicWrite, exists, readJsonIfExists, writeJson } from "./fsutil.ts";
import { loadENet, saveENet } from "./model_io.ts";
import { SgdMomentum, stepLr } from "./optim.ts";
import { renderSvg } from "./plot.ts";
import { predict } from "./predict.ts";
import { formatDuration, makeProgress, type Progress } from "./progress.ts";
import {
  ensureDir,
  listCheckpoints,
  readMetrics,
  runPath,
  writeCheckpoint,
  writeMetrics,
} from "./run.ts";
import { Rng } from "./rng.ts";

/** Training protocols: `default` (the method description) or `paper` (the authors' code). */
export type Protocol = "default" | "paper";

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
  width?: number;
  fc?: number;
  trainSrm?: boolean;
  protocol?: Protocol;
  /** The renderer the map learns against: folder name or label number (default: label 1). */
  renderer?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  /** Multiply the learning rate by 0.1 every this many epochs. */
  lrStep?: number;
  momentum?: number;
  /** L1 penalty on non-bias weights (paper: 1e-4). */
  l1?: number;
  sampler?: Sampler;
  seed?: number;
  /** Natural images: fractions for map train, map validation, flow pool, test. */
  naturalSplit?: string;
  /** Rendered images: fractions for map train, map validation, test. */
  cgSplit?: string;
  /** Folder of the authors' split lists instead of a seeded split. */
  splitFiles?: string;
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
  backend?: BackendName;
  /** Stop after this many epochs of this invocation (for tests and time-boxed jobs). */
  stopAfter?: number;
  /** Progress/log sink (default: stderr). */
  progress?: Progress;
}

/** The resolved configuration, saved as `config.json`. */
export interface MapRunConfig {
  kind: "map";
  version: 1;
  created: string;
  dataset: { root: string; csv?: string };
  renderer: { label: number; name: string };
  enet: ENetConfig;
  protocol: Protocol;
  train: {
    epochs: number;
    batchSize: number;
    lr: number;
    lrStep: number;
    lrGamma: number;
    momentum: number;
    l1: number;
    sampler: Sampler;
    augment: "none" | "random-crop-flip";
    init: "kaiming" | "paper";
    normalisation: "dataset" | "half";
  };
  seed: number;
  split: { natural: number[]; cg: number[]; files?: string };
  maxPixels?: number;
  skipBad: boolean;
}

/** What `trainMap` returns. */
export interface TrainMapResult {
  run: string;
  config: MapRunConfig;
  epochs: EpochMetrics[];
  seconds: number;
}

/** One line of `metrics.jsonl`. */
export interface EpochMetrics {
  epoch: number;
  lr: number;
  loss: number;
  train_acc: number;
  val_loss: number;
  val_acc: number;
  val_recall_natural: number;
  val_recall_cg: number;
  seconds: number;
  images_per_second: number;
}

const PROTOCOL_DEFAULTS: Record<Protocol, Omit<MapRunConfig["train"], "momentum">> = {
  default: {
    epochs: 60,
    batchSize: 16,
    lr: 1e-3,
    lrStep: 20,
    lrGamma: 0.1,
    l1: 0,
    sampler: "balanced",
    augment: "none",
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
    augment: "random-crop-flip",
    init: "paper",
    normalisation: "half",
  },
};

/** Trains (or resumes) an image map. */
export async function trainMap(opts: TrainMapOptions): Promise<TrainMapResult> {
  const t0 = performance.now();
  const log = opts.progress ?? makeProgress();
  const runs = resolve(opts.runs ?? "runs");

  // 1. Configuration: new, or read back from the run folder when resuming.
  const name = opts.name ??
    (opts.resume ? undefined : new Date().toISOString().slice(0, 19).replace(/:/g, "-"));
  if (!name) throw new UsageError("--resume needs --name of the run to continue");
  const run = runPath(runs, name);
  let config: MapRunConfig;
  if (opts.resume) {
    const saved = await readJsonIfExists<MapRunConfig>(join(run, "config.json"));
    if (!saved || saved.kind !== "map") {
      throw new CgvsniError(`${run}: no map run to resume (config.json missing)`);
    }
    config = saved;
    if (opts.epochs !== undefined && opts.epochs !== config.train.epochs) {
      log.log(`resume: epochs ${config.train.epochs} -> ${opts.epochs}`);
      config.train.epochs = opts.epochs;
    }
  } else {
    if (await exists(join(run, "config.json"))) {
      throw new CgvsniError(
        `${run} already holds a run: pass --resume to continue it, or another --name`,
      );
    }
    config = await resolveConfig(opts);
  }
  const backend = await initBackend(opts.backend ?? "auto");
  for (const n of backend.notices) log.log(`notice: ${n}`);

  // 2. Dataset and split.
  const ds = await loadDataset(config.dataset.root, { csv: config.dataset.csv });
  const renderer = opts.resume ? config.renderer : pickRenderer(ds, opts.renderer);
  config.renderer = renderer;
  let split: SplitEntry[];
  if (opts.resume) {
    split = applySplit(
      ds.images,
      await Deno.readTextFile(join(run, "split.csv")),
      join(run, "split.csv"),
    );
  } else {
    split = config.split.files
      ? await splitFromLists(ds.images, config.split.files)
      : makeSplit(ds.images, fractionsOf(config), config.seed);
  }
  const inMap = (e: SplitEntry) => e.label === 0 || e.label === renderer.label;
  let train = split.filter((e) => e.role === "train" && inMap(e));
  let val = split.filter((e) => e.role === "val" && inMap(e));
  for (const [what, set] of [["training", train], ["validation", val]] as const) {
    for (const c of [0, 1]) {
      if (!set.some((e) => (e.label === 0 ? 0 : 1) === c)) {
        throw new CgvsniError(
          `the ${what} split has no ${c === 0 ? "natural" : renderer.name} images: ` +
            `the dataset is too small for the split fractions`,
        );
      }
    }
  }

  if (!opts.resume) {
    await ensureDir(run);
    await writeJson(join(run, "config.json"), config);
    await atomicWrite(join(run, "split.csv"), formatSplit(split));
  }
  log.log(`run ${run}`);
  log.log(
    `backend ${backend.name} (${backend.detail}); ENet ${
      parameterCount(config.enet).toLocaleString("en")
    } parameters, ` +
      `crop ${config.enet.crop}; renderer ${renderer.name} (label ${renderer.label})`,
  );
  for (const [label, c] of splitCounts(split)) {
    const cls = ds.classes.find((k) => k.label === label)!;
    log.log(
      `  ${
        cls.name.padEnd(12)
      } train ${c.train} val ${c.val} flow ${c.flow} test ${c.test} unused ${c.unused}`,
    );
  }

  // 3. Decode every image the map needs, once, before the first step.
  const crop = config.enet.crop;
  const view: View = config.train.augment === "none"
    ? { kind: "center", size: crop }
    : { kind: "full" };
  const store = new ImageStore({
    dir: opts.cacheDir ?? join(runs, ".cache"),
    memoryBytes: (opts.cacheMemoryMb ?? 1024) * 1024 * 1024,
    maxPixels: config.maxPixels,
  });
  const bad: ImageError[] = [];
  log.start("decoding", train.length + val.length);
  for (const e of [...train, ...val]) {
    try {
      const img = await store.get(e.path, view);
      if (img.width < crop || img.height < crop) {
        throw new ImageError(
          e.path,
          `${img.width}x${img.height} is smaller than the ${crop}x${crop} crop`,
        );
      }
    } catch (err) {
      if (!(err instanceof ImageError)) throw err;
      bad.push(err);
    }
    log.tick();
  }
  log.end();
  if (bad.length > 0) {
    await atomicWrite(join(run, "skipped.txt"), bad.map((b) => b.message).join("\n") + "\n");
    if (!config.skipBad) {
      const more = bad.length > 5
        ? ` (and ${bad.length - 5} more; all in ${join(run, "skipped.txt")})`
        : "";
      throw new CgvsniError(
        `${bad.length} unusable image(s), stopping before training (--skip-bad skips them): ` +
          bad.slice(0, 5).map((b) => b.message).join("; ") + more,
      );
    }
    const badPaths = new Set(bad.map((b) => b.path));
    train = train.filter((e) => !badPaths.has(e.path));
    val = val.filter((e) => !badPaths.has(e.path));
    log.log(`skipped ${bad.length} unusable image(s), listed in ${join(run, "skipped.txt")}`);
  }
  const centre = async (e: SplitEntry): Promise<RgbImage> => {
    const img = await store.get(e.path, view);
    return view.kind === "center"
      ? img
      : cropAt(img, (img.width - crop) >> 1, (img.height - crop) >> 1, crop, crop);
  };

  // 4. Normalisation statistics from the training crops (or the paper's fixed [-1, 1]).
  let norm: ChannelStats;
  const saved = await readJsonIfExists<ChannelStats>(join(run, "norm.json"));
  if (opts.resume && saved) norm = saved;
  else {
    norm = config.train.normalisation === "half"
      ? HALF_STATS
      : channelStats(await Promise.all(train.map(centre)));
    await writeJson(join(run, "norm.json"), norm);
  }

  // 5. Model and optimiser, fresh or from the last checkpoint.
  const net = ENet.create(config.enet, config.seed, config.train.init);
  const trainable = net.trainable();
  const opt = new SgdMomentum(trainable, config.train.momentum);
  let history: EpochMetrics[] = [];
  let startEpoch = 1;
  if (opts.resume) {
    const last = (await listCheckpoints(run)).pop();
    if (last) {
      const { net: loaded } = await loadENet(last.dir, "model");
      net.load(await loaded.values());
      loaded.dispose();
      opt.load((await loadBundle(last.dir, "optim")).arrays);
      startEpoch = last.epoch + 1;
      history = (await readMetrics<EpochMetrics>(run)).filter((m) => m.epoch <= last.epoch);
      await writeMetrics(run, history);
      log.log(`resuming after epoch ${last.epoch}`);
    } else {
      await writeMetrics(run, []);
      log.log("no checkpoint yet: starting from epoch 1");
    }
  }

  const varName = new Map([...trainable].map(([n, v]) => [v.name, n]));
  const l1Vars = [...trainable].filter(([n]) => !/\.(b|beta)$/.test(n)).map(([, v]) => v);
  const labelsOf = train.map((e) => (e.label === 0 ? 0 : 1));
  const { batchSize, epochs } = config.train;
  let stopped = 0;

  // 6. The epoch loop.
  for (let epoch = startEpoch; epoch <= epochs; epoch++) {
    const te = performance.now();
    const lr = stepLr(config.train.lr, epoch, config.train.lrStep, config.train.lrGamma);
    const batches = epochBatches(labelsOf, batchSize, epoch, config.seed, config.train.sampler);
    const aug = new Rng(`augment:${config.seed}:${epoch}`);
    let lossSum = 0, correct = 0, seen = 0;
    log.start(`epoch ${epoch}/${epochs}`, batches.length);
    for (const [b, idx] of batches.entries()) {
      const crops = await Promise.all(idx.map(async (i) => {
        if (view.kind === "center") return await store.get(train[i].path, view);
        const img = await store.get(train[i].path, view);
        const c = cropAt(
          img,
          aug.int(img.width - crop + 1),
          aug.int(img.height - crop + 1),
          crop,
          crop,
        );
        return aug.next() < 0.5 ? flipHorizontal(c) : c;
      }));
      const y = idx.map((i) => labelsOf[i]);
      const moments: BatchMoments[] = [];
      const { loss, hits } = tf.tidy(() => {
        const x = tf.tensor4d(toBatch(crops, norm), [crops.length, crop, crop, 3]);
        const onehot = tf.oneHot(tf.tensor1d(y, "int32"), 2);
        let hitsT: tf.Tensor = tf.scalar(0);
        const { value, grads } = tf.variableGrads(() => {
          const { logits } = net.forward(x, true, config.seed * 100003 + epoch * 1009 + b, moments);
          hitsT = tf.keep(
            tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.tensor1d(y, "int32")), "float32")),
          );
          let l = tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
          if (config.train.l1 > 0) {
            l = tf.add(
              l,
              tf.mul(config.train.l1, tf.addN(l1Vars.map((v) => tf.sum(tf.abs(v))))),
            ) as tf.Scalar;
          }
          return l;
        }, [...trainable.values()]);
        const lossValue = value.dataSync()[0];
        if (!Number.isFinite(lossValue)) {
          throw new NumericalError(
            `loss became ${lossValue} at epoch ${epoch}, batch ${b + 1}: training stopped; ` +
              `the last good checkpoint is kept in ${
                join(run, "checkpoints")
              } (lower --lr and --resume)`,
          );
        }
        opt.step(new Map(Object.entries(grads).map(([k, g]) => [varName.get(k)!, g])), lr);
        return { loss: lossValue, hits: hitsT.dataSync()[0] };
      });
      net.updateRunningStats(moments);
      lossSum += loss * idx.length;
      correct += hits;
      seen += idx.length;
      log.tick(1, `loss ${(lossSum / seen).toFixed(4)}`);
    }
    log.end();

    const v = await validate(net, val, centre, norm);
    const seconds = (performance.now() - te) / 1000;
    const m: EpochMetrics = {
      epoch,
      lr,
      loss: lossSum / seen,
      train_acc: correct / seen,
      ...v,
      seconds: +seconds.toFixed(2),
      images_per_second: +(seen / seconds).toFixed(2),
    };
    history.push(m);
    await appendLine(join(run, "metrics.jsonl"), JSON.stringify(m));
    await atomicWrite(join(run, "training.svg"), trainingPlot(history));
    await writeCheckpoint(run, epoch, async (dir) => {
      await saveENet(dir, net, norm, "model", { epoch });
      await saveBundle(dir, "optim", "cgvsni-sgd/1", await opt.state());
      await writeJson(join(dir, "state.json"), { epoch, metrics: m });
    }, opts.keepCheckpoints ?? 2);
    const eta = formatDuration(
      ((performance.now() - t0) / 1000 / (epoch - startEpoch + 1)) * (epochs - epoch),
    );
    log.log(
      `epoch ${epoch}/${epochs} lr ${lr.toExponential(1)} loss ${m.loss.toFixed(4)} acc ${
        m.train_acc.toFixed(3)
      } ` +
        `| val loss ${m.val_loss.toFixed(4)} acc ${m.val_acc.toFixed(3)} ` +
        `(natural ${m.val_recall_natural.toFixed(3)}, ${renderer.name} ${
          m.val_recall_cg.toFixed(3)
        }) ` +
        `| ${seconds.toFixed(1)}s, ${m.images_per_second} img/s, ETA ${eta}`,
    );
    if (opts.stopAfter && ++stopped >= opts.stopAfter && epoch < epochs) {
      log.log(`stopping after ${stopped} epoch(s) as asked; continue with --resume`);
      break;
    }
  }

  const finished = history.length > 0 && history[history.length - 1].epoch >= epochs;
  if (finished) {
    await ensureDir(join(run, "model"));
    await saveENet(join(run, "model"), net, norm, "model", {
      renderer,
      epochs,
      metrics: history[history.length - 1],
    });
    log.log(`model saved in ${join(run, "model")}`);
  }
  opt.dispose();
  net.dispose();
  return { run, config, epochs: history, seconds: (performance.now() - t0) / 1000 };
}

/** Accuracy and loss on the validation images (centre crops, inference mode). */
async function validate(
  net: ENet,
  val: SplitEntry[],
  crop: (e: SplitEntry) => Promise<RgbImage>,
  norm: ChannelStats,
): Promise<Pick<EpochMetrics, "val_loss" | "val_acc" | "val_recall_natural" | "val_recall_cg">> {
  const labels = val.map((e) => (e.label === 0 ? 0 : 1));
  const { pCg, loss } = await predict(net, val.length, (i) => crop(val[i]), norm, { labels });
  let hit = 0, nat = 0, natHit = 0, cgHit = 0;
  labels.forEach((l, i) => {
    const ok = (pCg[i] >= 0.5 ? 1 : 0) === l;
    hit += +ok;
    if (l === 0) {
      nat++;
      natHit += +ok;
    } else cgHit += +ok;
  });
  const round = (x: number) => +x.toFixed(6);
  return {
    val_loss: round(loss ?? NaN),
    val_acc: round(hit / val.length),
    val_recall_natural: round(natHit / Math.max(1, nat)),
    val_recall_cg: round(cgHit / Math.max(1, val.length - nat)),
  };
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

/** The renderer named by `--renderer` (folder name or label), default label 1. */
export function pickRenderer(ds: Dataset, which?: string): { label: number; name: string } {
  const renderers = ds.classes.filter((c) => c.label > 0);
  if (which === undefined || which === "") {
    return { label: renderers[0].label, name: renderers[0].name };
  }
  const hit = renderers.find((c) =>
    c.name.toLowerCase() === which.toLowerCase() || String(c.label) === which
  );
  if (!hit) {
    throw new UsageError(
      `--renderer ${which}: not in the dataset (renderers: ${
        renderers.map((c) => `${c.label} ${c.name}`).join(", ")
      })`,
    );
  }
  return { label: hit.label, name: hit.name };
}

function fractionsOf(c: MapRunConfig): SplitFractions {
  const [t, v, f, s] = c.split.natural, [ct, cv, cs] = c.split.cg;
  return { natural: { train: t, val: v, flow: f, test: s }, cg: { train: ct, val: cv, test: cs } };
}

/** Builds the configuration of a new run from options and protocol defaults. */
export async function resolveConfig(o: TrainMapOptions): Promise<MapRunConfig> {
  const protocol = o.protocol ?? "default";
  if (!(protocol in PROTOCOL_DEFAULTS)) {
    throw new UsageError(`--protocol must be default or paper, got "${protocol}"`);
  }
  const presetName = o.preset ?? (protocol === "paper" ? "paper" : "small");
  const preset = PRESETS[presetName];
  if (!preset) {
    throw new UsageError(
      `--preset must be one of ${Object.keys(PRESETS).join(", ")}, got "${presetName}"`,
    );
  }
  const enet: ENetConfig = {
    ...preset,
    crop: o.crop ?? preset.crop,
    width: o.width ?? preset.width,
    fc: o.fc ?? preset.fc,
    trainSrm: o.trainSrm ?? preset.trainSrm,
  };
  for (const [k, v] of [["crop", enet.crop], ["width", enet.width], ["fc", enet.fc]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new UsageError(`--${k} must be a positive integer, got ${v}`);
    }
  }
  if (enet.crop < minCrop()) {
    throw new UsageError(`--crop ${enet.crop} is too small for ENet (minimum ${minCrop()})`);
  }
  shapes(enet);
  const d = PROTOCOL_DEFAULTS[protocol];
  const train: MapRunConfig["train"] = {
    ...d,
    epochs: o.epochs ?? d.epochs,
    batchSize: o.batchSize ?? d.batchSize,
    lr: o.lr ?? d.lr,
    lrStep: o.lrStep ?? d.lrStep,
    l1: o.l1 ?? d.l1,
    sampler: o.sampler ?? d.sampler,
    momentum: o.momentum ?? 0.9,
  };
  if (!Number.isInteger(train.epochs) || train.epochs < 1) {
    throw new UsageError("--epochs must be a positive integer");
  }
  if (!Number.isInteger(train.batchSize) || train.batchSize < 2) {
    throw new UsageError("--batch-size must be at least 2");
  }
  if (!(train.lr > 0)) throw new UsageError("--lr must be positive");
  if (!["balanced", "shuffle"].includes(train.sampler)) {
    throw new UsageError("--sampler must be balanced or shuffle");
  }
  const natural = o.naturalSplit
    ? parseFractions(o.naturalSplit, 4, "--natural-split")
    : Object.values(DEFAULT_FRACTIONS.natural);
  const cg = o.cgSplit
    ? parseFractions(o.cgSplit, 3, "--cg-split")
    : Object.values(DEFAULT_FRACTIONS.cg);
  const root = resolve(o.data);
  return {
    kind: "map",
    version: 1,
    created: new Date().toISOString(),
    dataset: { root, csv: o.csv ? resolve(o.csv) : undefined },
    renderer: { label: 0, name: "" },
    enet,
    protocol,
    train,
    seed: o.seed ?? 0,
    split: { natural, cg, files: o.splitFiles ? resolve(o.splitFiles) : undefined },
    maxPixels: o.maxPixels,
    skipBad: !!o.skipBad,
  };
}
