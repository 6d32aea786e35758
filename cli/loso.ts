/**
 * `cgvsni loso`: leave one photograph source out (lib/eval/loso.ts).
 *
 * @module
 */

import { GMM_FITS, GMM_SCORINGS } from "../lib/oneclass/gmm.ts";
import { HEAD_MODELS } from "../lib/head/heads.ts";
import { initBackend } from "../lib/backends/select.ts";
import type { BackendName } from "../lib/backends/select.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { UsageError } from "../lib/core/errors.ts";
import { DEFAULT_NU } from "../lib/core/stats.ts";
import { DEFAULT_UNSURE } from "../lib/detect/detector.ts";
import {
  fusedParts,
  loso,
  LOSO_BALANCES,
  LOSO_DEFAULTS,
  LOSO_THRESHOLDS,
  type LosoFeatures,
} from "../lib/eval/loso.ts";
import {
  choice,
  type Command,
  COMPUTE_FLAGS,
  num,
  photographsAndRendersArgs,
  photographsAndRendersFlags,
  RUNS_FLAG,
  str,
} from "./_args.ts";
import { kindsOf } from "./_stages.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";
import { trainOneClassCommand } from "./train_oneclass.ts";

/** The `loso` command. */
export const losoCommand: Command = {
  name: "loso",
  usage: "--natural DIR --renders DIR [--features LIST] [--oneclass LIST] [flags]",
  summary: "Leave one photograph source out: natural recall, unsure share and AUC per source.",
  description: `
For each photograph source of the corpus --natural (the Group column of its dataset.csv; see
make-natural), a one-class model is fitted on every other source and scores the held-out
photographs and every render of --renders (its labels 1..K; cgbench, say): natural recall (not
flagged), the share called "unsure" (detect --rule oneclass), and the AUC against each renderer.
Mean and worst over the sources with at least min-images photographs (--set min-images=N,
default 10) lead results.md; every
source follows. Whole-image features only (residual, mobilenet, profile, chroma); profile+mobilenet fuses
two (side by side; the Gaussian fits one part each, an image as far out as its farthest part). Each threshold is set as the
model sets it when trained (--threshold model), or as --threshold says: cv (out-of-fold over
images), cv-source (out-of-fold over whole sources, so that it reads scores of unseen sources)
or train. With --head DETECTOR, that detector's head joins each held-out source's model and
every verdict rule (both, fused, head, oneclass) is measured as detect would say it; its map is
not trained again, so give photographs and renders it never trained on. Writes
RUNS/NAME/results.json, results.md, and the feature cache (reused when run again).`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    ...photographsAndRendersFlags("a dataset whose renders are scored"),
    RUNS_FLAG,
    {
      name: "name",
      type: "string",
      arg: "NAME",
      default: LOSO_DEFAULTS.name,
      help: "results folder",
    },
    {
      name: "features",
      type: "string",
      arg: "LIST",
      default: LOSO_DEFAULTS.features.join(","),
      help: "whole-image feature sources (residual, mobilenet, profile, chroma); a+b fuses two",
    },
    {
      name: "oneclass",
      type: "string",
      arg: "LIST",
      default: LOSO_DEFAULTS.kinds.join(","),
      help: "one-class models compared",
    },
    {
      name: "threshold",
      type: "string",
      arg: "T",
      default: LOSO_DEFAULTS.threshold,
      help: "model (each model's own) | cv (folds of images) | cv-source (of sources) | train",
    },
    { name: "nu", type: "string", arg: "X", default: String(DEFAULT_NU), help: "one-class nu" },
    {
      name: "unsure",
      type: "string",
      arg: "X",
      default: String(DEFAULT_UNSURE),
      help: "unsure band, fraction of |threshold|",
    },
    {
      name: "unsure-share",
      type: "string",
      arg: "S",
      setting: true,
      help: "size the unsure band on the photographs instead: a share S of the natural reference " +
        "around the threshold's quantile (at most 2 nu)",
    },
    {
      name: "balance",
      type: "string",
      arg: "B",
      setting: true,
      default: LOSO_DEFAULTS.balance,
      help: "none | threshold: every source weighs alike in the threshold's quantile | source: " +
        "in the fit too (the Gaussian) | fit: in the fit only",
    },
    {
      name: "min-images",
      type: "string",
      arg: "N",
      setting: true,
      default: String(LOSO_DEFAULTS.minImages),
      help: "smallest source in mean and worst",
    },
    { name: "seed", type: "string", arg: "N", default: "0", help: "seed of the fits" },
    {
      name: "train-sources",
      type: "string",
      arg: "N",
      setting: true,
      help: "learning curve: fit on N random other sources of min-images",
    },
    {
      name: "train-images",
      type: "string",
      arg: "N",
      setting: true,
      help: "learning curve: fit on N random photographs of them",
    },
    {
      name: "held-out",
      type: "string",
      arg: "WHICH",
      default: LOSO_DEFAULTS.heldOut,
      help: "all sources, or big: only those in mean and worst (faster)",
    },
    {
      name: "short-side",
      type: "string",
      arg: "N",
      help: "bring every image down to this short side first (default: each at its size)",
    },
    {
      name: "match-compression",
      type: "string",
      arg: "Q",
      help: "re-encode every image as JPEG quality Q (after --short-side)",
    },
    {
      name: "natural-copies",
      type: "string",
      arg: "SPEC",
      setting: true,
      help:
        "each fit also takes a processed copy of each photograph it fits, e.g. long:400..1600+jpeg:50..95 (strengths drawn per photograph; the copy stays with its source and fold, and is never scored as a held-out photograph)",
    },
    {
      name: "head",
      type: "string",
      arg: "DIR",
      help:
        "a detector whose head joins each fit: every verdict rule's calls (photographs and renders its map never trained on)",
    },
    {
      name: "head-model",
      type: "string",
      arg: "M",
      setting: true,
      help:
        "linear | rbf: a head fitted again for each held-out source and renderer (on the fit's photographs against the other renderers' renders): its AUC, the fused score's, and every verdict rule's calls",
    },
    {
      name: "head-features",
      type: "string",
      arg: "F",
      setting: true,
      help: "the features that head reads (default: each configuration's own; a+b fuses)",
    },
    {
      name: "feature-cache",
      type: "string",
      arg: "DIRS",
      setting: true,
      help:
        "reuse other runs' features (their features/ folders, comma-separated): a list is taken from them when they hold all its images, matched by name and file fingerprint",
    },
    // the SVDD models' and the mixture's settings, as train-oneclass declares them
    ...trainOneClassCommand.flags.filter((f) =>
      ["hidden", "epochs", "lr-step", "components", "scoring", "fit"].includes(f.name)
    ),
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const data = photographsAndRendersArgs(a, "loso");
    const features = (str(a, "features") ?? LOSO_DEFAULTS.features.join(",")).split(",")
      .map((s) => s.trim()) as LosoFeatures[];
    const headFeatures = str(a, "head-features")?.trim() as LosoFeatures | undefined;
    for (
      const [flag, f] of [...features.map((x) => ["features", x]), ["head-features", headFeatures]]
    ) {
      try {
        if (f !== undefined) fusedParts(f);
      } catch (e) {
        throw new UsageError(`--${flag}: ${(e as Error).message}`);
      }
    }
    await initBackend(str(a, "backend", "auto") as BackendName);
    const r = await loso({
      ...data,
      runs: str(a, "runs"),
      name: str(a, "name"),
      features,
      kinds: kindsOf(a),
      threshold: choice(a, "threshold", LOSO_THRESHOLDS),
      nu: num(a, "nu", { min: 0, max: 1 }),
      unsure: num(a, "unsure", { min: 0 }),
      unsureShare: num(a, "unsure-share", { min: 0, max: 1 }),
      balance: choice(a, "balance", LOSO_BALANCES),
      minImages: num(a, "min-images", { int: true, min: 1 }),
      seed: num(a, "seed", { int: true }),
      heldOut: choice(a, "held-out", ["all", "big"] as const),
      trainSources: num(a, "train-sources", { int: true, min: 1 }),
      trainImages: num(a, "train-images", { int: true, min: 2 }),
      shortSide: num(a, "short-side", { int: true, min: 16 }),
      matchCompression: num(a, "match-compression", { int: true, min: 1, max: 100 }),
      naturalCopies: str(a, "natural-copies"),
      featureCache: str(a, "feature-cache")?.split(",").filter((x) => x),
      head: str(a, "head"),
      headModel: choice(a, "head-model", HEAD_MODELS),
      headFeatures,
      settings: {
        hidden: num(a, "hidden", { int: true, min: 1 }),
        epochs: num(a, "epochs", { int: true, min: 1 }),
        lrStep: num(a, "lr-step", { int: true, min: 1 }),
        components: num(a, "components", { int: true, min: 1 }),
        scoring: choice(a, "scoring", GMM_SCORINGS),
        fitBy: choice(a, "fit", GMM_FITS),
      },
      progress: makeProgress(),
    });
    const f = (x: number) => Number.isFinite(x) ? x.toFixed(3) : "–";
    for (const c of r.cells) {
      console.log(
        `${c.kind} on ${c.features} (threshold ${c.threshold}): recall mean ${f(c.mean.recall)} ` +
          `worst ${f(c.worst.recall)} | unsure mean ${f(c.mean.unsure)} worst ${
            f(c.worst.unsure)
          } | AUC mean ${f(c.mean.auc)} worst ${f(c.worst.auc)}`,
      );
      if (r.headModel && c.renderers) {
        const by = Object.values(c.renderers);
        const m = (k: "headAuc" | "fusedAuc") => by.reduce((s, x) => s + x[k]!, 0) / by.length;
        console.log(
          `  head fitted again: AUC mean ${f(m("headAuc"))} | fused AUC mean ${f(m("fusedAuc"))}`,
        );
      }
    }
    console.log(`wrote ${r.dir}/results.md`);
    return r.skipped.length ? 3 : 0;
  },
};
