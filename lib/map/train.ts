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
import { tf } from "../core/deps.ts";
import { type BackendName, initBackend, stepEnded } from "../backends/select.ts";
import { loadBundle, saveBundle } from "../core/bundle.ts";
import { type ChannelStats, channelStats, HALF_STATS, toBatch } from "../data/batch.ts";
import { ImageStore, type View } from "../data/cache.ts";
import { cropOf, type Sample, samplesOf, tilesView, usable } from "../data/samples.ts";
import { type Dataset, loadDataset } from "../data/dataset.ts";
import { cropAt, flipHorizontal, type RgbImage } from "../data/image.ts";
import { epochBatches, type Sampler } from "../data/sampler.ts";
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
import {
  type BatchMoments,
  ENet,
  type ENetConfig,
  minCrop,
  parameterCount,
  PRESETS,
  shapes,
} from "./enet.ts";
import { CgvsniError, NumericalError, UsageError } from "../core/errors.ts";
import { appendLine, atomicWrite, exists, readJsonIfExists, writeJson } from "../core/files.ts";
import { loadENet, saveENet } from "./io.ts";
import { type Optimizer, SgdMomentum, stepLr } from "../backends/optim.ts";
import { renderSvg } from "../core/plot.ts";
import { predict } from "./predict.ts";
import { formatDuration, makeProgress, type Progress } from "../core/progress.ts";
import {
  ensureDir,
  listCheckpoints,
  readMetrics,
  removeStale,
  runPath,
  writeCheckpoint,
  writeMetrics,
} from "../runs/folder.ts";
import { Rng } from "../core/rng.ts";

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
  /** The renderer the map learns against: folder name or label number (default: label 1). */
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
  /** Training crops: the centre crop, or a random crop + horizontal flip each epoch. */
  augment?: "none" | "random-crop-flip";
  /** Train on a grid of tiles x tiles crops per image instead of the centre crop only. */
  tiles?: number;
  /** Seed of the split, initialisation, sampling and dropout. */
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
  /** tfjs backend (`auto` by default). */
  backend?: BackendName;
  /** Stop after this many epochs of this invocation (for tests and time-boxed jobs). */
  stopAfter?: number;
  /** Progress/log sink (default: stderr). */
  progress?: Progress;
}

/** The resolved configuration, saved as `config.json`. */
export interface MapRunConfig {
  /** Marks an image-map run. */
  kind: "map";
  /** Format version of this file. */
  version: 1;
  /** When the run started (ISO 8601). */
  created: string;
  /** Dataset folder and CSV (absolute paths). */
  dataset: { root: string; csv?: string };
  /** The renderer the map learns against. */
  renderer: { label: number; name: string };
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
    augment: "none" | "random-crop-flip";
    /** Crops per image side (tiles x tiles crops per image; 1 = the centre crop). */
    tiles: number;
    init: "kaiming" | "paper";
    normalisation: "dataset" | "half";
  };
  /** Seed of the split, initialisation, sampling and dropout. */
  seed: number;
  /** Split fractions (natural: train, val, flow, test; rendered: train, val, test) or the list folder. */
  split: { natural: number[]; cg: number[]; files?: string };
  /** Pixel limit for decoding. */
  maxPixels?: number;
  /** Skip unusable images instead of stopping. */
  skipBad: boolean;
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
export interface EpochMetrics {
  /** 1-based epoch. */
  epoch: number;
  /** Initial learning rate. */
  lr: number;
  /** Mean training loss. */
  loss: number;
  /** Training accuracy (dropout on, batch statistics). */
  train_acc: number;
  /** Mean validation cross-entropy. */
  val_loss: number;
  /** Accuracy over validation crops. */
  val_acc: number;
  /** Accuracy over validation images (mean p(CG) of their crops). */
  val_image_acc: number;
  /** Share of natural validation crops classified natural. */
  val_recall_natural: number;
  /** Share of rendered validation crops classified rendered. */
  val_recall_cg: number;
  /** Wall time of the epoch, validation and checkpoint included. */
  seconds: number;
  /** Training crops per second. */
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
    augment: "random-crop-flip",
    tiles: 1,
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
    config = resolveConfig(opts);
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
    ? tilesView(crop, config.train.tiles)
    : { kind: "full" };
  const store = new ImageStore({
    dir: opts.cacheDir ?? join(runs, ".cache"),
    memoryBytes: (opts.cacheMemoryMb ?? 1024) * 1024 * 1024,
    maxPixels: config.maxPixels,
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
  // A sample is one crop: a tile of an image (the centre crop when --tiles is 1), or for
  // random-crop training the whole image, cropped anew each epoch.
  const trainSamples = await samplesOf(train, store, view);
  const valSamples = await samplesOf(val, store, view);
  const crop0 = (s: Sample) => cropOf(s, store, view, crop);

  // 4. Normalisation statistics from the training crops (or the paper's fixed [-1, 1]).
  let norm: ChannelStats;
  const saved = await readJsonIfExists<ChannelStats>(join(run, "norm.json"));
  if (opts.resume && saved) norm = saved;
  else {
    norm = config.train.normalisation === "half"
      ? HALF_STATS
      : channelStats(await Promise.all(trainSamples.map(crop0)));
    await writeJson(join(run, "norm.json"), norm);
  }

  // 5. Model and optimiser, fresh or from the last checkpoint.
  const net = ENet.create(config.enet, config.seed, config.train.init);
  const trainable = net.trainable();
  const opt = new SgdMomentum(trainable, config.train.momentum);
  let history: EpochMetrics[] = [];
  let startEpoch = 1;
  if (opts.resume) {
    await removeStale(run);
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

  const labelsOf = trainSamples.map((s) => (s.entry.label === 0 ? 0 : 1));
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
        if (view.kind !== "full") return await crop0(trainSamples[i]);
        const img = await store.get(trainSamples[i].entry.path, view);
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
      const x = toBatch(crops, norm);
      const dropoutSeed = config.seed * 100003 + epoch * 1009 + b;
      const { loss, hits } = trainStep(net, opt, x, y, { lr, l1: config.train.l1, dropoutSeed });
      if (!Number.isFinite(loss)) {
        throw new NumericalError(
          `loss became ${loss} at epoch ${epoch}, batch ${
            b + 1
          }: training stopped; the last good ` +
            `checkpoint is kept in ${join(run, "checkpoints")} (lower --lr and --resume)`,
        );
      }
      lossSum += loss * idx.length;
      correct += hits;
      seen += idx.length;
      log.tick(1, `loss ${(lossSum / seen).toFixed(4)}`);
    }
    log.end();

    const v = await validate(net, valSamples, crop0, norm);
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
    const badWeight = await firstNonFinite(net);
    if (badWeight) {
      throw new NumericalError(
        `${badWeight} became NaN or infinite at epoch ${epoch}: training stopped; the last good ` +
          `checkpoint is kept in ${join(run, "checkpoints")} (lower --lr and --resume)`,
      );
    }
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
        `| val loss ${m.val_loss.toFixed(4)} acc ${m.val_acc.toFixed(3)} (images ${
          m.val_image_acc.toFixed(3)
        }) ` +
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

/**
 * One optimisation step on a normalised NHWC batch with binary labels: forward in training
 * mode, cross-entropy (+ L1 on non-bias weights), backward, optimiser update, BN running
 * statistics. Returns the batch's mean loss and correct predictions; a non-finite loss is
 * returned without touching the weights.
 */
export function trainStep(
  net: ENet,
  opt: Optimizer,
  batch: Float32Array,
  labels: number[],
  o: { lr: number; l1?: number; dropoutSeed?: number },
): { loss: number; hits: number } {
  const trainable = net.trainable();
  const varName = new Map([...trainable].map(([n, v]) => [v.name, n]));
  const s = net.cfg.crop;
  const moments: BatchMoments[] = [];
  const out = tf.tidy(() => {
    const x = tf.tensor4d(batch, [labels.length, s, s, 3]);
    const y = tf.tensor1d(labels, "int32");
    const onehot = tf.oneHot(y, 2);
    let hits = 0;
    const { value, grads } = tf.variableGrads(() => {
      const { logits } = net.forward(x, true, o.dropoutSeed ?? 0, moments);
      hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32")).dataSync()[0];
      let l = tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
      if (o.l1) {
        const weights = [...trainable].filter(([n]) => !/\.(b|beta)$/.test(n)).map(([, v]) =>
          tf.sum(tf.abs(v))
        );
        l = tf.add(l, tf.mul(o.l1, tf.addN(weights))) as tf.Scalar;
      }
      return l;
    }, [...trainable.values()]);
    const loss = value.dataSync()[0];
    if (Number.isFinite(loss)) {
      opt.step(new Map(Object.entries(grads).map(([k, g]) => [varName.get(k)!, g])), o.lr);
    }
    return { loss, hits };
  });
  if (Number.isFinite(out.loss)) net.updateRunningStats(moments);
  else tf.dispose(moments.flatMap((m) => [m.mean, m.variance]));
  stepEnded();
  return out;
}

/** Name of the first model tensor holding a NaN or infinity, if any. */
export async function firstNonFinite(net: ENet): Promise<string | undefined> {
  for (const [name, values] of await net.values()) {
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return name;
  }
  return undefined;
}

/**
 * Loss and accuracy on the validation crops (inference mode), and the image-level accuracy
 * when an image has several crops (mean p(CG) over its crops).
 */
async function validate(
  net: ENet,
  val: Sample[],
  crop: (s: Sample) => Promise<RgbImage>,
  norm: ChannelStats,
): Promise<
  Pick<
    EpochMetrics,
    "val_loss" | "val_acc" | "val_image_acc" | "val_recall_natural" | "val_recall_cg"
  >
> {
  const labels = val.map((s) => (s.entry.label === 0 ? 0 : 1));
  const { pCg, loss } = await predict(net, val.length, (i) => crop(val[i]), norm, { labels });
  let hit = 0, nat = 0, natHit = 0, cgHit = 0;
  const perImage = new Map<string, { sum: number; n: number; label: number }>();
  labels.forEach((l, i) => {
    const ok = (pCg[i] >= 0.5 ? 1 : 0) === l;
    hit += +ok;
    if (l === 0) {
      nat++;
      natHit += +ok;
    } else cgHit += +ok;
    const im = perImage.get(val[i].entry.name) ?? { sum: 0, n: 0, label: l };
    im.sum += pCg[i];
    im.n++;
    perImage.set(val[i].entry.name, im);
  });
  const imageHits =
    [...perImage.values()].filter((m) => (m.sum / m.n >= 0.5 ? 1 : 0) === m.label).length;
  const round = (x: number) => +x.toFixed(6);
  return {
    val_loss: round(loss ?? NaN),
    val_acc: round(hit / val.length),
    val_image_acc: round(imageHits / perImage.size),
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
export function resolveConfig(o: TrainMapOptions): MapRunConfig {
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
    dropout: o.dropout ?? preset.dropout,
  };
  if (!(enet.dropout >= 0 && enet.dropout < 1)) {
    throw new UsageError(`--dropout must be in [0, 1), got ${enet.dropout}`);
  }
  for (const [k, v] of [["crop", enet.crop], ["width", enet.width], ["fc", enet.fc]] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new UsageError(`--${k} must be a positive integer, got ${v}`);
    }
  }
  if (enet.crop < minCrop()) {
    throw new UsageError(`--crop ${enet.crop} is too small for ENet (minimum ${minCrop()})`);
  }
  shapes(enet);
  // The small network learns faster with a larger step than the paper's 1e-3 (measured on
  // cgbench: natural vs Cycles reaches 100 % validation accuracy in 60 epochs at 1e-2).
  const d = presetName === "small" && protocol === "default"
    ? { ...PROTOCOL_DEFAULTS.default, lr: 1e-2 }
    : PROTOCOL_DEFAULTS[protocol];
  const train: MapRunConfig["train"] = {
    ...d,
    epochs: o.epochs ?? d.epochs,
    batchSize: o.batchSize ?? d.batchSize,
    lr: o.lr ?? d.lr,
    lrStep: o.lrStep ?? d.lrStep,
    l1: o.l1 ?? d.l1,
    sampler: o.sampler ?? d.sampler,
    augment: o.augment ?? d.augment,
    tiles: o.tiles ?? d.tiles,
    momentum: o.momentum ?? 0.9,
  };
  if (!["none", "random-crop-flip"].includes(train.augment)) {
    throw new UsageError(`--augment must be none or random-crop-flip, got "${train.augment}"`);
  }
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
