/**
 * `cgvsni train-map`: train the ENet image map on natural images and one or more renderers.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import { AUGMENT_RANGES, AUGMENTATIONS } from "../lib/data/augment.ts";
import { DEFAULT_FRACTIONS } from "../lib/data/split.ts";
import { PAPER, SMALL } from "../lib/map/enet.ts";
import type { Protocol } from "../lib/map/run.ts";
import {
  DEFAULT_CACHE_MB,
  mapDefaults,
  MOMENTUM,
  PROTOCOL_DEFAULTS,
  SMALL_PRESET_LR,
  trainMap,
} from "../lib/map/train.ts";
import { DEFAULT_MAX_PIXELS } from "../lib/data/decode.ts";
import { bool, choice, type Command, COMPUTE_FLAGS, num, RUNS_FLAG, str } from "./_args.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";
import { DEFAULT_DATA } from "../lib/data/dataset.ts";
import { DEFAULT_KEEP } from "../lib/runs/loop.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";

const D = PROTOCOL_DEFAULTS.default, P = PROTOCOL_DEFAULTS.paper;
const fractions = (o: Record<string, number>) => Object.values(o).join(",");

/** The `train-map` command. */
export const trainMapCommand: Command = {
  name: "train-map",
  usage: "[flags]",
  summary: "Train the ENet image map (natural vs one or more renderers) and write a map run.",
  description: `
Reads DATA/dataset.csv, splits every source folder into train / val / flow / test (seeded,
stratified, disjoint; written to the run as split.csv and reused by every later stage), decodes
each image once into the crop cache, then trains with SGD (momentum ${MOMENTUM}) on cross-entropy.
Each epoch appends to metrics.jsonl (with the validation recall of every class), redraws
training.svg and writes a checkpoint; --resume continues an interrupted run. A run that stopped
before finishing an epoch (a bad image, say) can simply be started again.

--renderer A,B (or all) learns natural vs the union of those renderers; batches are half natural,
half rendered, the rendered half shared equally by the renderers.
Shortcut-free training: --match-compression Q re-encodes every image of every class once as JPEG
quality Q first (so JPEG history no longer tells photographs from renders); --augment
jpeg,blur,resize,noise perturbs training crops of both classes alike (JPEG quality
${AUGMENT_RANGES.jpeg.join("..")}, blur sigma ${AUGMENT_RANGES.blur.join("..")}, resize x${
    AUGMENT_RANGES.resize.join("..x")
  }, noise sigma ${AUGMENT_RANGES.noise.join("..")}), each with probability --augment-p.

Protocols: "default" (centre crop or tiles, per-channel normalisation from the training crops,
batch ${D.batchSize}, lr ${D.lr} (small preset ${SMALL_PRESET_LR}) x0.1 every ${D.lrStep} epochs, ${D.epochs} epochs) and "paper" (the
authors' reference training: random ${PAPER.crop} crop + horizontal flip, [-1,1] normalisation,
balanced batches of ${P.batchSize}, L1 ${P.l1} on non-bias weights, lr x0.1 every ${P.lrStep} epochs, ${P.epochs} epochs).
Presets: "small" (crop ${SMALL.crop}, narrow layers: minutes on 2 CPU cores) and "paper" (43,736,054
parameters at crop ${PAPER.crop}).`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    {
      name: "data",
      type: "string",
      arg: "DIR",
      default: DEFAULT_DATA,
      help: "dataset folder holding dataset.csv",
    },
    { name: "csv", type: "string", arg: "FILE", help: "use this CSV instead of DIR/dataset.csv" },
    RUNS_FLAG,
    { name: "name", type: "string", arg: "NAME", help: "run name (default: date and time)" },
    { name: "resume", type: "boolean", help: "continue run --name from its last checkpoint" },
    {
      name: "renderer",
      type: "string",
      arg: "A,B|all",
      help: "renderers to learn against: folder names or labels, or all (default: label 1)",
    },
    {
      name: "protocol",
      type: "string",
      arg: "P",
      default: "default",
      help: "training protocol: default|paper",
    },
    {
      name: "preset",
      type: "string",
      arg: "P",
      help: "architecture: small|paper (default: small; paper for --protocol paper)",
    },
    {
      name: "crop",
      setting: true,
      type: "string",
      arg: "N",
      help: `crop side in pixels (preset: small ${SMALL.crop}, paper ${PAPER.crop})`,
    },
    {
      name: "width",
      setting: true,
      type: "string",
      arg: "N",
      help: `channels of the branch convolutions (small ${SMALL.width}, paper ${PAPER.width})`,
    },
    {
      name: "fc",
      setting: true,
      type: "string",
      arg: "N",
      help: `width of L8 and L9 (small ${SMALL.fc}, paper ${PAPER.fc})`,
    },
    {
      name: "dropout",
      setting: true,
      type: "string",
      arg: "P",
      help:
        `dropout rate after L8 and L9 while training (default: paper ${PAPER.dropout}, small ${SMALL.dropout})`,
    },
    {
      name: "train-srm",
      setting: true,
      type: "boolean",
      help: "learn the SRM kernels instead of keeping them fixed",
    },
    {
      name: "epochs",
      type: "string",
      arg: "N",
      help: `epochs (default: ${D.epochs}; paper ${P.epochs})`,
    },
    {
      name: "batch-size",
      setting: true,
      type: "string",
      arg: "N",
      help: `images per batch (default: ${D.batchSize}; paper ${P.batchSize})`,
    },
    {
      name: "lr",
      type: "string",
      arg: "X",
      help: `initial learning rate (default: ${mapDefaults("default", "paper").lr}; small preset ${
        mapDefaults("default", "small").lr
      })`,
    },
    {
      name: "lr-step",
      setting: true,
      type: "string",
      arg: "N",
      help: `multiply lr by 0.1 every N epochs (default: ${D.lrStep}; paper ${P.lrStep})`,
    },
    {
      name: "momentum",
      setting: true,
      type: "string",
      arg: "X",
      default: String(MOMENTUM),
      help: "SGD momentum",
    },
    {
      name: "l1",
      type: "string",
      arg: "X",
      help: `L1 penalty on non-bias weights (default: ${D.l1}; paper ${P.l1})`,
    },
    {
      name: "sampler",
      setting: true,
      type: "string",
      arg: "S",
      default: D.sampler,
      help: "batches: balanced (half natural, half CG) | shuffle",
    },
    {
      name: "augment",
      setting: true,
      type: "string",
      arg: "LIST",
      help: `training-crop augmentations: none or a list of ${
        AUGMENTATIONS.join(",")
      } (default: none; paper random-crop-flip)`,
    },
    {
      name: "augment-p",
      setting: true,
      type: "string",
      arg: "P",
      default: String(D.augmentP),
      help: "probability of each pixel augmentation per crop",
    },
    {
      name: "match-compression",
      type: "string",
      arg: "Q",
      help: "re-encode every image as JPEG quality Q before anything else (default: off)",
    },
    {
      name: "tiles",
      type: "string",
      arg: "N",
      default: String(D.tiles),
      help: "train and validate on an N x N grid of crops per image (1: centre crop)",
    },
    {
      name: "seed",
      type: "string",
      arg: "N",
      default: "0",
      help: "seed of the split, initialisation, sampling, dropout",
    },
    {
      name: "natural-split",
      setting: true,
      type: "string",
      arg: "F",
      default: fractions(DEFAULT_FRACTIONS.natural),
      help: "natural images: map train,val,one-class pool,test fractions",
    },
    {
      name: "cg-split",
      setting: true,
      type: "string",
      arg: "F",
      default: fractions(DEFAULT_FRACTIONS.cg),
      help: "rendered images: map train,val,test fractions",
    },
    {
      name: "split-files",
      setting: true,
      type: "string",
      arg: "DIR",
      help: "use the authors' split lists (CGDetection Dataset/TrainValTestSplit)",
    },
    {
      name: "split-csv",
      setting: true,
      type: "string",
      arg: "FILE",
      help: "reuse another run's split.csv (same dataset)",
    },
    {
      name: "keep-checkpoints",
      setting: true,
      type: "string",
      arg: "N",
      default: String(DEFAULT_KEEP),
      help: "newest checkpoints kept",
    },
    {
      name: "max-pixels",
      setting: true,
      type: "string",
      arg: "N",
      default: String(DEFAULT_MAX_PIXELS),
      help: "refuse images with more pixels (decompression bombs)",
    },
    {
      name: "cache-dir",
      setting: true,
      type: "string",
      arg: "DIR",
      default: "RUNS/.cache",
      help: "decoded-crop cache",
    },
    {
      name: "cache-memory",
      setting: true,
      type: "string",
      arg: "MIB",
      default: String(DEFAULT_CACHE_MB),
      help: "in-memory crop cache budget",
    },
    {
      name: "skip-bad",
      type: "boolean",
      help: "skip unusable images (listed in skipped.txt) instead of stopping",
    },
    {
      name: "stop-after",
      type: "string",
      arg: "N",
      help: "stop after N epochs of this invocation (resume later)",
    },
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const res = await trainMap({
      data: str(a, "data", DEFAULT_DATA)!,
      csv: str(a, "csv"),
      runs: str(a, "runs", DEFAULT_RUNS),
      name: str(a, "name"),
      resume: bool(a, "resume"),
      renderer: str(a, "renderer"),
      protocol: choice(a, "protocol", ["default", "paper"] as Protocol[]),
      preset: str(a, "preset"),
      crop: num(a, "crop", { int: true, min: 1 }),
      width: num(a, "width", { int: true, min: 1 }),
      fc: num(a, "fc", { int: true, min: 1 }),
      trainSrm: bool(a, "train-srm") || undefined,
      dropout: num(a, "dropout", { min: 0, max: 0.99 }),
      epochs: num(a, "epochs", { int: true, min: 1 }),
      batchSize: num(a, "batch-size", { int: true, min: 2 }),
      lr: num(a, "lr", { min: 0 }),
      lrStep: num(a, "lr-step", { int: true, min: 1 }),
      momentum: num(a, "momentum", { min: 0, max: 1 }),
      l1: num(a, "l1", { min: 0 }),
      sampler: choice(a, "sampler", ["balanced", "shuffle"] as const),
      augment: str(a, "augment"),
      augmentP: num(a, "augment-p", { min: 0, max: 1 }),
      matchCompression: num(a, "match-compression", { int: true, min: 1, max: 100 }),
      tiles: num(a, "tiles", { int: true, min: 1, max: 16 }),
      seed: num(a, "seed", { int: true }),
      naturalSplit: str(a, "natural-split"),
      cgSplit: str(a, "cg-split"),
      splitFiles: str(a, "split-files"),
      splitCsv: str(a, "split-csv"),
      keepCheckpoints: num(a, "keep-checkpoints", { int: true, min: 1 }),
      maxPixels: num(a, "max-pixels", { int: true, min: 1 }),
      cacheDir: str(a, "cache-dir"),
      cacheMemoryMb: num(a, "cache-memory", { min: 0 }),
      skipBad: bool(a, "skip-bad"),
      stopAfter: num(a, "stop-after", { int: true, min: 1 }),
      backend: str(a, "backend", "auto") as BackendName,
    });
    const last = res.epochs[res.epochs.length - 1];
    console.log(
      `run ${res.run}: ${res.epochs.length} epoch(s), val acc ${
        last?.val_acc.toFixed(3) ?? "-"
      }, ` +
        `${res.seconds.toFixed(1)} s`,
    );
    return 0;
  },
};
