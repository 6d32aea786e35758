/**
 * `cgvsni train-map`: train the ENet image map on natural images and one renderer.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import type { Sampler } from "../lib/data/sampler.ts";
import { type Protocol, trainMap } from "../lib/map/train.ts";
import { BACKEND_FLAG, bool, type Command, num, str } from "./_args.ts";

/** The `train-map` command. */
export const trainMapCommand: Command = {
  name: "train-map",
  usage: "[flags]",
  summary: "Train the ENet image map (natural vs one renderer) and write a run folder.",
  description: `
Reads DATA/dataset.csv, splits every source folder into train / val / flow / test (seeded,
stratified, disjoint; written to the run folder as split.csv and reused by every later stage),
decodes each image once into the crop cache, then trains with SGD (momentum 0.9) on
cross-entropy. Each epoch appends to metrics.jsonl, redraws training.svg and writes a
checkpoint; --resume continues an interrupted run from its last checkpoint.

Protocols: "default" (centre crop, per-channel normalisation from the training crops, batch 16,
lr 1e-3 (small preset 1e-2) x0.1 every 20 epochs, 60 epochs) and "paper" (the authors' reference training: random
233 crop + horizontal flip, [-1,1] normalisation, balanced batches of 32, L1 1e-4 on non-bias
weights, lr x0.1 every 100 epochs, 300 epochs, paper-size network).
Presets: "small" (crop 96, narrow layers: minutes on 2 CPU cores) and "paper" (43,736,054
parameters at crop 233).`,
  permissions:
    "--allow-read --allow-write=runs --allow-env=IMAGESCRIPT_WASM_SIMD,CGVSNI_DNNL,CGVSNI_POOL_MB --allow-ffi --allow-sys=systemMemoryInfo",
  flags: [
    {
      name: "data",
      type: "string",
      arg: "DIR",
      default: "dataset",
      help: "dataset folder holding dataset.csv",
    },
    { name: "csv", type: "string", arg: "FILE", help: "use this CSV instead of DIR/dataset.csv" },
    { name: "runs", type: "string", arg: "DIR", default: "runs", help: "folder of run folders" },
    { name: "name", type: "string", arg: "NAME", help: "run name (default: date and time)" },
    { name: "resume", type: "boolean", help: "continue run --name from its last checkpoint" },
    {
      name: "renderer",
      type: "string",
      arg: "R",
      help: "renderer to learn against: folder name or label (default: label 1)",
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
      help: "architecture: small|paper (default: small, paper for --protocol paper)",
    },
    {
      name: "crop",
      type: "string",
      arg: "N",
      help: "crop side in pixels (preset: small 96, paper 233)",
    },
    {
      name: "width",
      type: "string",
      arg: "N",
      help: "channels of the branch convolutions (small 16, paper 64)",
    },
    { name: "fc", type: "string", arg: "N", help: "width of L8 and L9 (small 256, paper 4096)" },
    {
      name: "dropout",
      type: "string",
      arg: "P",
      help: "dropout rate after L8 and L9 while training (default: paper 0.5, small 0)",
    },
    {
      name: "train-srm",
      type: "boolean",
      help: "learn the SRM kernels instead of keeping them fixed",
    },
    { name: "epochs", type: "string", arg: "N", help: "epochs (default: 60; paper 300)" },
    {
      name: "batch-size",
      type: "string",
      arg: "N",
      help: "images per batch (default: 16; paper 32)",
    },
    {
      name: "lr",
      type: "string",
      arg: "X",
      help: "initial learning rate (default: 1e-3; small preset 1e-2)",
    },
    {
      name: "lr-step",
      type: "string",
      arg: "N",
      help: "multiply lr by 0.1 every N epochs (default: 20; paper 100)",
    },
    { name: "momentum", type: "string", arg: "X", default: "0.9", help: "SGD momentum" },
    {
      name: "l1",
      type: "string",
      arg: "X",
      help: "L1 penalty on non-bias weights (default: 0; paper 1e-4)",
    },
    {
      name: "sampler",
      type: "string",
      arg: "S",
      default: "balanced",
      help: "batches: balanced (half natural, half CG) | shuffle",
    },
    {
      name: "augment",
      type: "string",
      arg: "A",
      help:
        "training crops: none (centre crop) | random-crop-flip (default: none; paper random-crop-flip)",
    },
    {
      name: "tiles",
      type: "string",
      arg: "N",
      default: "1",
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
      type: "string",
      arg: "F",
      default: "0.4,0.1,0.2,0.3",
      help: "natural images: map train,val,flow pool,test fractions",
    },
    {
      name: "cg-split",
      type: "string",
      arg: "F",
      default: "0.6,0.1,0.3",
      help: "rendered images: map train,val,test fractions",
    },
    {
      name: "split-files",
      type: "string",
      arg: "DIR",
      help: "use the authors' split lists (CGDetection Dataset/TrainValTestSplit)",
    },
    {
      name: "keep-checkpoints",
      type: "string",
      arg: "N",
      default: "2",
      help: "newest checkpoints kept",
    },
    {
      name: "max-pixels",
      type: "string",
      arg: "N",
      default: "100000000",
      help: "refuse images with more pixels (decompression bombs)",
    },
    {
      name: "cache-dir",
      type: "string",
      arg: "DIR",
      default: "RUNS/.cache",
      help: "decoded-crop cache",
    },
    {
      name: "cache-memory",
      type: "string",
      arg: "MIB",
      default: "1024",
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
    BACKEND_FLAG,
  ],
  async run(a) {
    const res = await trainMap({
      data: str(a, "data", "dataset")!,
      csv: str(a, "csv"),
      runs: str(a, "runs", "runs"),
      name: str(a, "name"),
      resume: bool(a, "resume"),
      renderer: str(a, "renderer"),
      protocol: str(a, "protocol", "default") as Protocol,
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
      sampler: str(a, "sampler") as Sampler | undefined,
      augment: str(a, "augment") as "none" | "random-crop-flip" | undefined,
      tiles: num(a, "tiles", { int: true, min: 1, max: 16 }),
      seed: num(a, "seed", { int: true }),
      naturalSplit: str(a, "natural-split"),
      cgSplit: str(a, "cg-split"),
      splitFiles: str(a, "split-files"),
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
