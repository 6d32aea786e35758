/**
 * `cgvsni train-oneclass` (also `train-flow`): fit a one-class model on the features of natural
 * images only.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import { FEATURES_FLAG, ONECLASS_FLAG } from "./_stages.ts";
import { UsageError } from "../lib/core/errors.ts";
import { FEATURE_SOURCES, type FeatureSource } from "../lib/features/sources.ts";
import { PRETRAINED_DIM } from "../lib/features/pretrained.ts";
import { RESIDUAL_DIM } from "../lib/features/residual.ts";
import { MLP_DEFAULTS } from "../lib/oneclass/deep_svdd.ts";
import {
  DEFAULT_FOLDS,
  DEFAULT_NU,
  ONECLASS_KINDS,
  type OneClassKind,
} from "../lib/oneclass/estimator.ts";
import { FLOW_DEFAULTS } from "../lib/oneclass/flow.ts";
import { FEATURE_NORMS } from "../lib/oneclass/normalise.ts";
import { trainOneClass } from "../lib/oneclass/train.ts";
import { SVDD_DEFAULTS } from "../lib/oneclass/mod.ts";
import { bool, choice, type Command, COMPUTE_FLAGS, num, RUNS_FLAG, str } from "./_args.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";
import { GAUSS_DEFAULTS } from "../lib/oneclass/gauss.ts";
import { KNN_DEFAULTS } from "../lib/oneclass/knn.ts";
import { GMM_DEFAULTS, GMM_FITS, GMM_SCORINGS } from "../lib/oneclass/gmm.ts";
import { DEFAULT_CHECKPOINT_EVERY } from "../lib/oneclass/train.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";

/** The `train-oneclass` command. */
export const trainOneClassCommand: Command = {
  name: "train-oneclass",
  aliases: ["train-flow"],
  usage:
    "--map RUN [--features SRC] [--oneclass KIND] [flags]   |   --data DIR --features residual|mobilenet",
  summary:
    "Fit a one-class model (flow, mlp, gauss, knn, gmm) on natural images' features, natural images only.",
  description: `
Feature sources (--features): l9 (the method: L9 after ReLU), l9-pre, l8, l8-pre (before the
ReLU), trunk (global average and max of the last conv block): all from map run RUN, on the
natural images its split held back for this stage (role "oneclass"); residual (${RESIDUAL_DIM} noise-residual
statistics of the image's most textured patches: co-occurrences at three scales and their slopes)
and mobilenet (${PRETRAINED_DIM} early activations of a pretrained MobileNetV2, the nsfwjs npm package's,
on nine 224 px crops at the image's own resolution): these two need no map, and fit on every
non-test natural image of RUN's split, or with --data DIR (no map) of a split of its own.

One-class models (--oneclass): flow (the method: a volume-preserving NICE flow trained with the
SVDD objective F(R,c,f) = R^2 + 1/(nu n) sum max(0, |f(x)-c|^2 - R^2), c the mean of the
random-init flow's outputs, R reset every K epochs to the (1-nu) quantile); mlp (Deep SVDD, the
same objective on a bias-free MLP); gauss (Mahalanobis distance under a Ledoit-Wolf covariance,
optionally after PCA; on residual features one Gaussian for the co-occurrences, which gives the
score, and one for the slopes, which only checks: an image beyond the slopes' out-of-fold 95 %
quantile is never called natural);
knn (mean distance to the k nearest training vectors); gmm (a mixture of K such Gaussians fitted by
EM, --set components=K: -2 log p(x) less a lower bound, for photographs of several histories;
--set scoring=nearest: the distance to the nearest component, each of at least d vectors' worth;
--set fit=kmeans: the components a k-means partition, each part of at least d vectors where
there are d).
Score = raw outlyingness - threshold: above 0 means computer-generated. The threshold is the
(1-nu) quantile of natural training scores only: "train" (the vectors' own scores; for flow and
mlp their default, R^2 when each image gives one vector) or "cv" (out-of-fold scores over ${DEFAULT_FOLDS} folds of whole images; the
default of gauss, knn and gmm, whose in-sample scores are optimistic).

Writes RUN/NAME/ (default NAME: the kind for l9, else SOURCE-KIND; without a map runs/NAME/):
config.json, oneclass.json/.bin (model, normalisation, threshold, feature provenance),
summary.json, and for flow/mlp metrics.jsonl, training.svg and checkpoints/ (--resume).`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    {
      name: "map",
      type: "string",
      arg: "RUN",
      help: "the map run (runs/RUN) whose split and features are used",
    },
    {
      name: "data",
      type: "string",
      arg: "DIR",
      help: "dataset folder, for --features residual or mobilenet without a map",
    },
    {
      name: "csv",
      type: "string",
      arg: "FILE",
      help: "use this CSV instead of DIR/dataset.csv (with --data)",
    },
    RUNS_FLAG,
    {
      name: "name",
      type: "string",
      arg: "NAME",
      help: "name of this one-class run (default: KIND, or SOURCE-KIND)",
    },
    { name: "resume", type: "boolean", help: "continue from the last checkpoint (flow, mlp)" },
    FEATURES_FLAG,
    ONECLASS_FLAG,
    {
      name: "feature-norm",
      setting: true,
      type: "string",
      arg: "N",
      default: FEATURE_NORMS[0],
      help: `normalisation before the model: ${FEATURE_NORMS.join("|")}`,
    },
    {
      name: "no-standardise",
      setting: true,
      type: "boolean",
      help: "same as --feature-norm none (old flag)",
    },
    {
      name: "threshold",
      type: "string",
      arg: "T",
      help:
        "how the threshold is set: train|cv|cv-source (folds of whole sources, the Group column) (default: train for flow/mlp, cv for gauss/knn)",
    },
    {
      name: "nu",
      type: "string",
      arg: "X",
      default: String(DEFAULT_NU),
      help: "share of natural training images left outside the threshold",
    },
    {
      name: "couplings",
      setting: true,
      type: "string",
      arg: "N",
      default: String(FLOW_DEFAULTS.couplings),
      help: "flow: additive coupling layers",
    },
    {
      name: "hidden",
      setting: true,
      type: "string",
      arg: "N",
      default: String(FLOW_DEFAULTS.hidden),
      help: "flow, mlp: hidden width",
    },
    {
      name: "depth",
      setting: true,
      type: "string",
      arg: "N",
      default: String(FLOW_DEFAULTS.depth),
      help: "flow, mlp: hidden-to-hidden layers per network",
    },
    {
      name: "rep-dim",
      setting: true,
      type: "string",
      arg: "N",
      default: String(MLP_DEFAULTS.repDim),
      help: "mlp: output dimension",
    },
    {
      name: "k",
      setting: true,
      type: "string",
      arg: "N",
      default: String(SVDD_DEFAULTS.k),
      help: "flow, mlp: epochs between radius updates",
    },
    {
      name: "epochs",
      setting: true,
      type: "string",
      arg: "N",
      default: String(SVDD_DEFAULTS.epochs),
      help: "flow, mlp: epochs",
    },
    {
      name: "lr",
      setting: true,
      type: "string",
      arg: "X",
      default: String(SVDD_DEFAULTS.lr),
      help: "flow, mlp: Adam learning rate",
    },
    {
      name: "lr-step",
      setting: true,
      type: "string",
      arg: "N",
      default: String(SVDD_DEFAULTS.lrStep),
      help: "flow, mlp: multiply lr by 0.1 every N epochs",
    },
    {
      name: "batch-size",
      setting: true,
      type: "string",
      arg: "N",
      default: String(SVDD_DEFAULTS.batchSize),
      help: "flow, mlp: feature vectors per batch",
    },
    {
      name: "eps",
      setting: true,
      type: "string",
      arg: "X",
      default: String(SVDD_DEFAULTS.eps),
      help: "flow, mlp: centre coordinates nearer 0 are pushed out to +-eps",
    },
    {
      name: "pca",
      setting: true,
      type: "string",
      arg: "N",
      default: String(GAUSS_DEFAULTS.pca),
      help: "gauss: principal components kept (0: none)",
    },
    {
      name: "neighbours",
      setting: true,
      type: "string",
      arg: "N",
      default: String(KNN_DEFAULTS.neighbours),
      help: "knn: neighbours averaged",
    },
    {
      name: "metric",
      setting: true,
      type: "string",
      arg: "M",
      default: KNN_DEFAULTS.metric,
      help: "knn: euclidean|cosine",
    },
    {
      name: "components",
      setting: true,
      type: "string",
      arg: "K",
      default: String(GMM_DEFAULTS.components),
      help: "gmm: Gaussians in the mixture",
    },
    {
      name: "scoring",
      setting: true,
      type: "string",
      arg: "S",
      default: GMM_DEFAULTS.scoring,
      help: "gmm: density (-2 log p less its bound) | nearest (distance to the nearest component)",
    },
    {
      name: "fit",
      setting: true,
      type: "string",
      arg: "F",
      default: GMM_DEFAULTS.fitBy,
      help:
        "gmm: em | kmeans (a partition into parts of at least d vectors where there are d, a Gaussian each)",
    },
    {
      name: "tiles",
      type: "string",
      arg: "N",
      help: "map sources: crops per image side (default: as the map was trained)",
    },
    {
      name: "match-compression",
      type: "string",
      arg: "Q",
      help: "with --data: re-encode every image as JPEG quality Q first",
    },
    {
      name: "seed",
      type: "string",
      arg: "N",
      default: "0",
      help: "seed of the model, the folds (and the split, with --data)",
    },
    {
      name: "fit-all",
      type: "boolean",
      help: "with --data: fit on every photograph, no test split (its test sources held out apart)",
    },
    { name: "skip-bad", type: "boolean", help: "skip unusable images instead of stopping" },
    {
      name: "stop-after",
      type: "string",
      arg: "N",
      help: "stop after N epochs of this invocation (resume later)",
    },
    {
      name: "checkpoint-every",
      setting: true,
      type: "string",
      arg: "N",
      default: String(DEFAULT_CHECKPOINT_EVERY),
      help: "write a checkpoint every N epochs (and after the last)",
    },
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const map = str(a, "map"), data = str(a, "data");
    if (!map && !data && !bool(a, "resume")) {
      throw new UsageError(
        "train-oneclass: give --map RUN, or --data DIR with --features residual or mobilenet (see --help)",
      );
    }
    if (bool(a, "no-standardise") && str(a, "feature-norm")) {
      throw new UsageError("--no-standardise and --feature-norm exclude each other");
    }
    const res = await trainOneClass({
      map,
      data,
      csv: str(a, "csv"),
      runs: str(a, "runs", DEFAULT_RUNS),
      name: str(a, "name"),
      resume: bool(a, "resume"),
      features: choice(a, "features", FEATURE_SOURCES) as FeatureSource | undefined,
      oneclass: choice(a, "oneclass", ONECLASS_KINDS) as OneClassKind | undefined,
      threshold: choice(a, "threshold", ["train", "cv", "cv-source"] as const),
      settings: {
        nu: num(a, "nu", { min: 0, max: 1 }),
        norm: bool(a, "no-standardise") ? "none" : choice(a, "feature-norm", FEATURE_NORMS),
        couplings: num(a, "couplings", { int: true, min: 1 }),
        hidden: num(a, "hidden", { int: true, min: 1 }),
        depth: num(a, "depth", { int: true, min: 0 }),
        repDim: num(a, "rep-dim", { int: true, min: 1 }),
        k: num(a, "k", { int: true, min: 1 }),
        epochs: num(a, "epochs", { int: true, min: 1 }),
        lr: num(a, "lr", { min: 0 }),
        lrStep: num(a, "lr-step", { int: true, min: 1 }),
        batchSize: num(a, "batch-size", { int: true, min: 1 }),
        eps: num(a, "eps", { min: 0 }),
        pca: num(a, "pca", { int: true, min: 0 }),
        metric: choice(a, "metric", ["euclidean", "cosine"] as const),
        neighbours: num(a, "neighbours", { int: true, min: 1 }),
        components: num(a, "components", { int: true, min: 1 }),
        scoring: choice(a, "scoring", GMM_SCORINGS),
        fitBy: choice(a, "fit", GMM_FITS),
      },
      tiles: num(a, "tiles", { int: true, min: 1, max: 16 }),
      matchCompression: num(a, "match-compression", { int: true, min: 1, max: 100 }),
      seed: num(a, "seed", { int: true }),
      skipBad: bool(a, "skip-bad"),
      fitAll: bool(a, "fit-all"),
      stopAfter: num(a, "stop-after", { int: true, min: 1 }),
      checkpointEvery: num(a, "checkpoint-every", { int: true, min: 1 }),
      backend: str(a, "backend", "auto") as BackendName,
    });
    console.log(`one-class run ${res.run}: ${res.seconds.toFixed(1)} s`);
    return 0;
  },
};
