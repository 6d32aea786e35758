/**
 * `cgvsni train-head`: a head on whole-image features, linear or RBF-kernel (lib/head/train.ts).
 *
 * @module
 */

import { initBackend } from "../lib/backends/select.ts";
import type { BackendName } from "../lib/backends/select.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { defaultC, HEAD_MODELS, type HeadModel } from "../lib/head/heads.ts";
import { LOGISTIC_DEFAULTS } from "../lib/head/logistic.ts";
import { TRAIN_HEAD_DEFAULTS, trainHead } from "../lib/head/train.ts";
import {
  type Command,
  COMPUTE_FLAGS,
  num,
  photographsAndRendersArgs,
  photographsAndRendersFlags,
  RUNS_FLAG,
  str,
} from "./_args.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";

/** The `train-head` command. */
export const trainHeadCommand: Command = {
  name: "train-head",
  usage:
    "--natural DIR --renders DIR [--features F] [--model linear|rbf] [--match-compression Q] [--name NAME]",
  summary:
    "Train a head (logistic regression or an RBF-kernel SVM on whole-image features) on photographs and renders",
  description: `
Logistic regression (--model linear: L2, C = --c, classes balanced, standardised features) or a
support vector machine with an RBF kernel (--model rbf: C = --c, gamma = 1 / (d * variance),
classes balanced, standardised features; scikit-learn's SVC, solved as libsvm solves it) on the
whole-image features (residual, mobilenet, profile, chroma) of the photographs of --natural (label 0;
its Group column, the source, keeps a source in one fold) against the renders of --renders
(labels 1..K).
Its threshold is the (1 - nu) quantile of the photographs' out-of-fold p(CG), folds of whole
sources, so it is set on photographs only. Writes RUNS/NAME/head.json (and the features, cached);
export-detector --linear-head RUNS/NAME --oneclass-run ONE makes a detector of it. The head
learns the renders it is given: docs/production.md measures how far that carries to renderers
and scene generators it never saw.`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    ...photographsAndRendersFlags("a dataset whose renders are the other class"),
    RUNS_FLAG,
    {
      name: "name",
      type: "string",
      arg: "NAME",
      default: TRAIN_HEAD_DEFAULTS.name,
      help: "run folder",
    },
    {
      name: "features",
      type: "string",
      arg: "F",
      default: TRAIN_HEAD_DEFAULTS.features,
      help: "whole-image feature source (residual, mobilenet, profile, chroma)",
    },
    {
      name: "match-compression",
      type: "string",
      arg: "Q",
      help: "re-encode every image as JPEG quality Q first (the detector does the same)",
    },
    {
      name: "model",
      type: "string",
      arg: "M",
      default: TRAIN_HEAD_DEFAULTS.model,
      help: `the head's model (${HEAD_MODELS.join(", ")})`,
    },
    {
      name: "c",
      type: "string",
      arg: "X",
      help: `inverse L2 strength (linear; default ${defaultC("linear")}) or box constraint ` +
        `(rbf; default ${defaultC("rbf")})`,
    },
    {
      name: "nu",
      type: "string",
      arg: "X",
      default: String(LOGISTIC_DEFAULTS.nu),
      help: "share of photographs above the threshold",
    },
    {
      name: "seed",
      type: "string",
      arg: "N",
      default: String(LOGISTIC_DEFAULTS.seed),
      help: "seed of the threshold's folds",
    },
    {
      name: "feature-cache",
      type: "string",
      arg: "DIRS",
      help:
        "reuse other runs' features (their features/ folders, comma-separated; by image name and file fingerprint)",
    },
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const data = photographsAndRendersArgs(a, "train-head");
    await initBackend(str(a, "backend", "auto") as BackendName);
    const r = await trainHead({
      ...data,
      runs: str(a, "runs"),
      name: str(a, "name"),
      features: str(a, "features"),
      model: str(a, "model") as HeadModel | undefined,
      matchCompression: num(a, "match-compression", { int: true, min: 1, max: 100 }),
      c: num(a, "c", { min: 0 }),
      nu: num(a, "nu", { min: 0, max: 1 }),
      seed: num(a, "seed", { int: true }),
      featureCache: str(a, "feature-cache")?.split(",").filter((x) => x),
      progress: makeProgress(),
    });
    console.log(`wrote ${r.dir}/head.json`);
    return r.skipped.length ? 3 : 0;
  },
};
