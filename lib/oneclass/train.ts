/**
 * Training the one-class stage on the features of natural images only, readable top to bottom:
 *
 * 1. load the map run (its ENet, normalisation, split) and resolve the configuration;
 * 2. L9 features (inference mode) of the natural images held back for this stage (role `flow`),
 *    cached in the map's run folder; standardisation fitted on them;
 * 3. the feature map (volume-preserving flow, or the bias-free MLP baseline) and the centre c,
 *    the mean of its randomly initialised outputs;
 * 4. the epoch loop: Adam on the SVDD objective F(R, c, f); every K epochs R becomes the (1 − ν)
 *    quantile of the training distances; metrics, plot and checkpoint each epoch;
 * 5. save the one-class model and a summary: fraction of training points inside the sphere,
 *    and ROC AUC on the test split, per renderer.
 *
 * The result lives in `runs/<map run>/<name>/` (default name `flow`).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { tf } from "../core/deps.ts";
import { type BackendName, initBackend } from "../backends/select.ts";
import { loadBundle, saveBundle } from "../core/bundle.ts";
import { ImageStore } from "../data/cache.ts";
import { loadDataset } from "../data/dataset.ts";
import { samplesOf, tilesView, usable } from "../data/samples.ts";
import { applySplit, type SplitEntry } from "../data/split.ts";
import { CgvsniError, NumericalError, UsageError } from "../core/errors.ts";
import { features } from "../features/cache.ts";
import { BiasFreeMlp, type FeatureMap, type FlowConfig, type MlpConfig, NiceFlow } from "./flow.ts";
import { appendLine, atomicWrite, exists, readJsonIfExists, writeJson } from "../core/files.ts";
import { rocAuc } from "../eval/metrics.ts";
import { loadENet } from "../map/io.ts";
import { fitStandardisation, OneClassModel } from "./model.ts";
import { Adam, stepLr } from "../backends/optim.ts";
import { renderSvg } from "../core/plot.ts";
import { formatDuration, makeProgress, type Progress, ticker } from "../core/progress.ts";
import { Rng } from "../core/rng.ts";
import {
  checkRunName,
  ensureDir,
  listCheckpoints,
  readMetrics,
  removeStale,
  runPath,
  writeCheckpoint,
  writeMetrics,
} from "../runs/folder.ts";
import type { MapRunConfig } from "../map/train.ts";
import { fractionInside, initCenter, radiusFor, sqDistances, svddLoss } from "./svdd.ts";

/** Everything `train-flow` can be told; unset fields take the defaults below. */
export interface TrainFlowOptions {
  /** The map run whose features are used. */
  modelName: string;
  /** Parent folder of runs (default `runs`). */
  runs?: string;
  /** Name of this one-class run inside the map run (default `flow`, or `mlp` for the baseline). */
  name?: string;
  /** Continue from the last checkpoint. */
  resume?: boolean;
  /** `flow` (default) or the `mlp` baseline. */
  model?: "flow" | "mlp";
  /** Additive couplings (4). */
  couplings?: number;
  /** Hidden width of the coupling networks / MLP (1000). */
  hidden?: number;
  /** Hidden-to-hidden layers per network (4). */
  depth?: number;
  /** Output dimension of the MLP baseline (128). */
  repDim?: number;
  /** ν (0.05). */
  nu?: number;
  /** Epochs between radius updates (2). */
  k?: number;
  /** Epochs (120). */
  epochs?: number;
  /** Adam learning rate (1e-3). */
  lr?: number;
  /** ×0.1 every this many epochs (40). */
  lrStep?: number;
  /** Feature vectors per batch (64). */
  batchSize?: number;
  /** Seed of initialisation and shuffling (0). */
  seed?: number;
  /** Standardise features per dimension (true). */
  standardise?: boolean;
  /** Crops per image side (default: as the map was trained). */
  tiles?: number;
  /** Centre coordinates closer to 0 than this are pushed out to ±eps (0.1). */
  eps?: number;
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
export interface FlowRunConfig {
  /** Marks a one-class run. */
  kind: "oneclass";
  /** Format version. */
  version: 1;
  /** When it started. */
  created: string;
  /** The map run (folder name) and the SHA-256 of its model weights. */
  mapRun: { name: string; model: string };
  /** Architecture of the feature map. */
  map: FlowConfig | MlpConfig;
  /** ν. */
  nu: number;
  /** Epochs between radius updates. */
  k: number;
  /** Optimisation settings. */
  train: { epochs: number; lr: number; lrStep: number; batchSize: number; eps: number };
  /** Standardise features. */
  standardise: boolean;
  /** Crops per image side. */
  tiles: number;
  /** Seed. */
  seed: number;
  /** Skip unusable images. */
  skipBad: boolean;
}

/** One line of the one-class run's `metrics.jsonl`. */
export interface FlowEpochMetrics {
  /** 1-based epoch. */
  epoch: number;
  /** Learning rate used. */
  lr: number;
  /** Mean F(R, c, f) over the epoch's batches. */
  loss: number;
  /** Radius after the epoch. */
  radius: number;
  /** Fraction of training points inside the sphere after the epoch. */
  inside: number;
  /** Wall time of the epoch. */
  seconds: number;
}

/** What training reports at the end (also `summary.json`). */
export interface FlowSummary {
  /** Fraction of training features inside the sphere (target 1 − ν). */
  inside: number;
  /** 1 − ν. */
  target: number;
  /** Training feature vectors (crops of natural images). */
  trainCrops: number;
  /** ROC AUC of the scores, natural test images vs each renderer's test images (image level). */
  aucByRenderer: Record<string, { auc: number; natural: number; rendered: number; seen: boolean }>;
  /** Same for the supervised head's p(CG), for comparison. */
  headAucByRenderer: Record<string, number>;
}

/** What `trainFlow` returns. */
export interface TrainFlowResult {
  /** The one-class run folder. */
  run: string;
  /** Its configuration. */
  config: FlowRunConfig;
  /** Per-epoch metrics. */
  epochs: FlowEpochMetrics[];
  /** Final summary (when training finished). */
  summary?: FlowSummary;
  /** Wall time of this invocation. */
  seconds: number;
}

/** Trains (or resumes) the one-class stage on a map run. */
export async function trainFlow(opts: TrainFlowOptions): Promise<TrainFlowResult> {
  const t0 = performance.now();
  const log = opts.progress ?? makeProgress();
  const runs = resolve(opts.runs ?? "runs");
  if (!opts.modelName) {
    throw new UsageError("--model-name RUN is required (the map run to build on)");
  }

  // 1. The map run, and this run's configuration.
  const mapRun = runPath(runs, opts.modelName);
  const mapConfig = await readJsonIfExists<MapRunConfig>(join(mapRun, "config.json"));
  if (!mapConfig || mapConfig.kind !== "map") {
    throw new CgvsniError(`${mapRun}: not a map run (no config.json)`);
  }
  if (!(await exists(join(mapRun, "model/model.json")))) {
    throw new CgvsniError(
      `${mapRun}: the map has not finished training (no model/); resume it first`,
    );
  }
  const name = checkRunName(opts.name ?? (opts.model === "mlp" ? "mlp" : "flow"));
  const run = join(mapRun, name);
  const backend = await initBackend(opts.backend ?? "auto");
  for (const n of backend.notices) log.log(`notice: ${n}`);
  const { net, norm, manifest: modelManifest } = await loadENet(join(mapRun, "model"));
  const modelSha = modelManifest.sha256 as string;
  let config: FlowRunConfig;
  if (opts.resume) {
    const saved = await readJsonIfExists<FlowRunConfig>(join(run, "config.json"));
    if (!saved || saved.kind !== "oneclass") {
      throw new CgvsniError(`${run}: no one-class run to resume`);
    }
    if (saved.mapRun.model !== modelSha) {
      throw new CgvsniError(`${run}: the map's model changed since this run started`);
    }
    config = saved;
    if (opts.epochs !== undefined) config.train.epochs = opts.epochs;
  } else {
    if (await exists(join(run, "config.json"))) {
      throw new CgvsniError(
        `${run} already holds a one-class run: pass --resume, or another --name`,
      );
    }
    config = resolveFlowConfig(opts, net.cfg.fc, mapConfig, modelSha);
  }

  // 2. Features of the natural images held back for this stage.
  const ds = await loadDataset(mapConfig.dataset.root, { csv: mapConfig.dataset.csv });
  const split = applySplit(
    ds.images,
    await Deno.readTextFile(join(mapRun, "split.csv")),
    join(mapRun, "split.csv"),
  );
  await ensureDir(run);
  if (!opts.resume) await writeJson(join(run, "config.json"), config);
  const store = new ImageStore({
    dir: opts.cacheDir ?? join(runs, ".cache"),
    maxPixels: mapConfig.maxPixels,
  });
  const view = tilesView(net.cfg.crop, config.tiles);
  const pool = await usable(
    split.filter((e) => e.role === "flow" && e.label === 0),
    store,
    view,
    net.cfg.crop,
    {
      skipBad: config.skipBad,
      run,
      log,
      what: "training",
    },
  );
  if (pool.length < 2) {
    throw new CgvsniError(`the flow pool has ${pool.length} natural image(s): too few to train on`);
  }
  const poolSamples = await samplesOf(pool, store, view);
  log.start("features", poolSamples.length);
  const feats = await features(
    mapRun,
    `flow-tiles${config.tiles}`,
    net,
    modelSha,
    norm,
    poolSamples,
    store,
    view,
    ticker(log),
  );
  log.end();
  const n = feats.n, dim = feats.dim;
  log.log(
    `one-class run ${run}: ${config.map.kind}, ${n} feature vectors (${pool.length} images x ${config.tiles}² crops) ` +
      `of dimension ${dim}${feats.cached ? " (cached)" : ""}; backend ${backend.name}`,
  );
  const standardise = config.standardise ? fitStandardisation(feats.data, n, dim) : undefined;

  // 3. Feature map and centre: fresh, or from the last checkpoint.
  const map: FeatureMap = config.map.kind === "flow"
    ? NiceFlow.create(config.map, config.seed)
    : BiasFreeMlp.create(config.map, config.seed);
  const model = new OneClassModel(
    map,
    new Float32Array(map.outDim),
    0,
    config.nu,
    config.k,
    standardise,
  );
  const opt = new Adam(map.vars);
  let history: FlowEpochMetrics[] = [];
  let start = 1;
  if (opts.resume) await removeStale(run);
  const last = opts.resume ? (await listCheckpoints(run)).pop() : undefined;
  if (last) {
    const { model: saved } = await OneClassModel.load(last.dir, "oneclass");
    for (const [k, v] of saved.map.vars) map.vars.get(k)!.assign(v);
    model.c = saved.c;
    model.radius = saved.radius;
    saved.dispose();
    opt.load((await loadBundle(last.dir, "optim")).arrays);
    start = last.epoch + 1;
    history = (await readMetrics<FlowEpochMetrics>(run)).filter((m) => m.epoch <= last.epoch);
    await writeMetrics(run, history);
    log.log(`resuming after epoch ${last.epoch}`);
  } else {
    if (opts.resume) await writeMetrics(run, []);
    const z = tf.tidy(() => map.forward(model.input(feats.data, n)));
    model.c = initCenter(z.dataSync() as Float32Array, n, map.outDim, config.train.eps);
    z.dispose();
  }
  const c = tf.tensor1d(model.c);
  const x = model.input(feats.data, n);

  // 4. The epoch loop.
  const { epochs, batchSize } = config.train;
  let stopped = 0;
  for (let epoch = start; epoch <= epochs; epoch++) {
    const te = performance.now();
    const lr = stepLr(config.train.lr, epoch, config.train.lrStep);
    const order = new Rng(`flow-sampler:${config.seed}:${epoch}`).shuffle([...Array(n).keys()]);
    let lossSum = 0, batches = 0;
    for (let i = 0; i < n; i += batchSize) {
      const idx = order.slice(i, i + batchSize);
      const loss = tf.tidy(() => {
        const xb = tf.gather(x, tf.tensor1d(idx, "int32")) as tf.Tensor2D;
        const { value, grads } = tf.variableGrads(
          () => svddLoss(sqDistances(map.forward(xb), c), model.radius, config.nu),
          [...map.vars.values()],
        );
        const l = value.dataSync()[0];
        if (Number.isFinite(l)) {
          opt.step(new Map([...map.vars].map(([k, v]) => [k, grads[v.name]])), lr);
        }
        return l;
      });
      if (!Number.isFinite(loss)) {
        throw new NumericalError(
          `loss became ${loss} at epoch ${epoch}: training stopped; the last good state is kept in ` +
            `${join(run, "checkpoints")} (lower --lr and --resume)`,
        );
      }
      lossSum += loss;
      batches++;
    }
    const d2 = model.sqDistances(feats.data, n);
    if (d2.some((v) => !Number.isFinite(v))) {
      throw new NumericalError(
        `outputs became NaN or infinite at epoch ${epoch}: training stopped; the last good state is kept in ${
          join(run, "checkpoints")
        }`,
      );
    }
    if (epoch % config.k === 0) model.radius = radiusFor(d2, config.nu);
    const m: FlowEpochMetrics = {
      epoch,
      lr,
      loss: +(lossSum / batches).toFixed(6),
      radius: +model.radius.toFixed(6),
      inside: +fractionInside(d2, model.radius).toFixed(6),
      seconds: +((performance.now() - te) / 1000).toFixed(3),
    };
    history.push(m);
    await appendLine(join(run, "metrics.jsonl"), JSON.stringify(m));
    await atomicWrite(join(run, "training.svg"), flowPlot(history));
    const stopping = !!opts.stopAfter && stopped + 1 >= opts.stopAfter;
    if (epoch % (opts.checkpointEvery ?? 10) === 0 || epoch === epochs || stopping) {
      await writeCheckpoint(run, epoch, async (dir) => {
        await model.save(dir, "oneclass", { epoch });
        await saveBundle(dir, "optim", "cgvsni-adam/1", await opt.state());
        await writeJson(join(dir, "state.json"), { epoch, metrics: m });
      });
    }
    if (epoch === start || epoch % 10 === 0 || epoch === epochs) {
      const eta = formatDuration(
        ((performance.now() - t0) / 1000 / (epoch - start + 1)) * (epochs - epoch),
      );
      log.log(
        `epoch ${epoch}/${epochs} lr ${lr.toExponential(1)} loss ${m.loss.toFixed(4)} R ${
          m.radius.toFixed(4)
        } ` +
          `inside ${m.inside.toFixed(3)} | ${m.seconds.toFixed(1)}s, ETA ${eta}`,
      );
    }
    if (opts.stopAfter && ++stopped >= opts.stopAfter && epoch < epochs) {
      log.log(`stopping after ${stopped} epoch(s) as asked; continue with --resume`);
      break;
    }
  }
  x.dispose();
  c.dispose();

  // 5. Save, and report on the test split.
  let summary: FlowSummary | undefined;
  const finished = history.length > 0 && history[history.length - 1].epoch >= epochs;
  if (finished) {
    const provenance = { mapRun: config.mapRun, tiles: config.tiles, crop: net.cfg.crop, epochs };
    await model.save(run, "oneclass", provenance);
    summary = await summarise(model, history[history.length - 1], n, split, mapConfig, {
      mapRun,
      run,
      net,
      modelSha,
      norm,
      store,
      view,
      log,
    });
    await writeJson(join(run, "summary.json"), summary);
    log.log(
      `inside the sphere: ${
        summary.inside.toFixed(3)
      } of the training features (target ${summary.target}); ` +
        `test ROC AUC ${
          Object.entries(summary.aucByRenderer).map(([r, a]) =>
            `${r}${a.seen ? "*" : ""} ${a.auc.toFixed(3)}`
          ).join(", ")
        } (* = renderer the map was trained on)`,
    );
    log.log(`one-class model saved in ${join(run, "oneclass.json")}`);
  }
  opt.dispose();
  model.dispose();
  net.dispose();
  return { run, config, epochs: history, summary, seconds: (performance.now() - t0) / 1000 };
}

/** Fraction inside, and image-level ROC AUC per renderer on the test split (flow and head). */
async function summarise(
  model: OneClassModel,
  last: FlowEpochMetrics,
  trainCrops: number,
  split: SplitEntry[],
  mapConfig: MapRunConfig,
  ctx: {
    mapRun: string;
    run: string;
    net: Awaited<ReturnType<typeof loadENet>>["net"];
    modelSha: string;
    norm: Awaited<ReturnType<typeof loadENet>>["norm"];
    store: ImageStore;
    view: ReturnType<typeof tilesView>;
    log: Progress;
  },
): Promise<FlowSummary> {
  const ds = await loadDataset(mapConfig.dataset.root, { csv: mapConfig.dataset.csv });
  const test = await usable(
    split.filter((e) => e.role === "test"),
    ctx.store,
    ctx.view,
    ctx.net.cfg.crop,
    {
      skipBad: true,
      run: ctx.run,
      listName: "test-skipped.txt",
      log: ctx.log,
      what: "evaluation",
    },
  );
  const samples = await samplesOf(test, ctx.store, ctx.view);
  ctx.log.start("test features", samples.length);
  const tiles = ctx.view.kind === "tiles" ? ctx.view.perSide : 1;
  const f = await features(
    ctx.mapRun,
    `test-tiles${tiles}`,
    ctx.net,
    ctx.modelSha,
    ctx.norm,
    samples,
    ctx.store,
    ctx.view,
    ticker(ctx.log),
  );
  ctx.log.end();
  const s = model.score(f.data, f.n);
  // image level: mean over an image's crops
  const byImage = new Map<string, { label: number; score: number; p: number; k: number }>();
  samples.forEach((sm, i) => {
    const r = byImage.get(sm.entry.name) ?? { label: sm.entry.label, score: 0, p: 0, k: 0 };
    r.score += s[i];
    r.p += f.pCg[i];
    r.k++;
    byImage.set(sm.entry.name, r);
  });
  const imgs = [...byImage.values()].map((r) => ({
    label: r.label,
    score: r.score / r.k,
    p: r.p / r.k,
  }));
  const natural = imgs.filter((r) => r.label === 0);
  const aucByRenderer: FlowSummary["aucByRenderer"] = {};
  const headAucByRenderer: Record<string, number> = {};
  for (const cls of ds.classes.filter((c) => c.label > 0)) {
    const cg = imgs.filter((r) => r.label === cls.label);
    if (cg.length === 0 || natural.length === 0) continue;
    const both = [...natural, ...cg];
    const labels = both.map((r) => (r.label === 0 ? 0 : 1));
    aucByRenderer[cls.name] = {
      auc: +rocAuc(both.map((r) => r.score), labels).toFixed(6),
      natural: natural.length,
      rendered: cg.length,
      seen: cls.label === mapConfig.renderer.label,
    };
    headAucByRenderer[cls.name] = +rocAuc(both.map((r) => r.p), labels).toFixed(6);
  }
  return {
    inside: last.inside,
    target: +(1 - model.nu).toFixed(6),
    trainCrops,
    aucByRenderer,
    headAucByRenderer,
  };
}

/** Loss and radius curves as SVG. */
export function flowPlot(h: FlowEpochMetrics[]): string {
  return renderSvg([
    {
      title: "SVDD objective",
      xLabel: "epoch",
      yLabel: "F(R, c, f)",
      series: [{ name: "train", points: h.map((m) => [m.epoch, m.loss]) }],
    },
    {
      title: "radius and fraction inside",
      xLabel: "epoch",
      yLabel: "R / fraction",
      series: [
        { name: "R", points: h.map((m) => [m.epoch, m.radius]) },
        { name: "inside", points: h.map((m) => [m.epoch, m.inside]), dashed: true },
      ],
    },
  ]);
}

/** Resolves a new one-class run's configuration from options and defaults. */
export function resolveFlowConfig(
  o: TrainFlowOptions,
  dim: number,
  mapConfig: MapRunConfig,
  modelSha: string,
): FlowRunConfig {
  const kind = o.model ?? "flow";
  if (kind !== "flow" && kind !== "mlp") {
    throw new UsageError(`--model must be flow or mlp, got "${kind}"`);
  }
  const hidden = o.hidden ?? 1000, depth = o.depth ?? 4;
  const map: FlowConfig | MlpConfig = kind === "flow"
    ? { kind, dim, couplings: o.couplings ?? 4, hidden, depth }
    : { kind, dim, hidden, depth, out: o.repDim ?? 128 };
  const nu = o.nu ?? 0.05;
  if (!(nu > 0 && nu < 1)) throw new UsageError(`--nu must be in (0, 1), got ${nu}`);
  const cfg: FlowRunConfig = {
    kind: "oneclass",
    version: 1,
    created: new Date().toISOString(),
    mapRun: { name: o.modelName, model: modelSha },
    map,
    nu,
    k: o.k ?? 2,
    train: {
      epochs: o.epochs ?? 120,
      lr: o.lr ?? 1e-3,
      lrStep: o.lrStep ?? 40,
      batchSize: o.batchSize ?? 64,
      eps: o.eps ?? 0.1,
    },
    standardise: o.standardise ?? true,
    tiles: o.tiles ?? mapConfig.train.tiles ?? 1,
    seed: o.seed ?? 0,
    skipBad: !!o.skipBad,
  };
  for (
    const [k, v] of Object.entries({
      k: cfg.k,
      epochs: cfg.train.epochs,
      "batch-size": cfg.train.batchSize,
      tiles: cfg.tiles,
      hidden,
    })
  ) {
    if (!Number.isInteger(v) || v < 1) {
      throw new UsageError(`--${k} must be a positive integer, got ${v}`);
    }
  }
  if (!(cfg.train.lr > 0)) throw new UsageError("--lr must be positive");
  return cfg;
}
