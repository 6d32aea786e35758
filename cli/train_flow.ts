/**
 * `cgvsni train-flow`: train the one-class stage (flow + SVDD) on a map run's features.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import { UsageError } from "../lib/core/errors.ts";
import { trainFlow } from "../lib/oneclass/train.ts";
import { BACKEND_FLAG, bool, type Command, num, str } from "./_args.ts";

/** The `train-flow` command. */
export const trainFlowCommand: Command = {
  name: "train-flow",
  usage: "--model-name RUN [flags]",
  summary:
    "Train the one-class model (volume-preserving flow + SVDD) on natural features of a map run.",
  description: `
Loads the ENet of map run RUN (its normalisation, inference mode), extracts the L9 features of
the natural images the split held back for this stage (role "flow"; cached in RUN/features/),
standardises them, and trains a NICE flow (additive couplings, det J = 1) with the SVDD
objective F(R,c,f) = R^2 + 1/(nu n) sum max(0, |f(x)-c|^2 - R^2): c = mean of the random-init
flow's outputs, R reset every K epochs to the (1-nu) quantile of the training distances.
Score = |f(x)-c|^2 - R^2; above 0 means computer-generated.

Writes RUN/<name>/ (default name "flow"; "mlp" for --model mlp): config.json, metrics.jsonl
(loss, R, fraction inside, seconds), training.svg, checkpoints/, oneclass.json/.bin (flow
weights, c, R, nu, K, standardisation, the map's checksum) and summary.json (fraction of
training features inside the sphere; ROC AUC on the test split per renderer, flow and head).`,
  permissions:
    "--allow-read --allow-write=runs --allow-env=IMAGESCRIPT_WASM_SIMD,CGVSNI_DNNL,CGVSNI_POOL_MB --allow-ffi --allow-sys=systemMemoryInfo",
  flags: [
    {
      name: "model-name",
      type: "string",
      arg: "RUN",
      help: "the map run (runs/RUN) whose ENet gives the features",
    },
    { name: "runs", type: "string", arg: "DIR", default: "runs", help: "folder of run folders" },
    {
      name: "name",
      type: "string",
      arg: "NAME",
      help: "name of this one-class run inside RUN (default: flow, or mlp)",
    },
    { name: "resume", type: "boolean", help: "continue from the last checkpoint" },
    {
      name: "model",
      type: "string",
      arg: "M",
      default: "flow",
      help: "flow (NICE, volume-preserving) | mlp (bias-free Deep SVDD baseline)",
    },
    {
      name: "couplings",
      type: "string",
      arg: "N",
      default: "4",
      help: "additive coupling layers of the flow",
    },
    {
      name: "hidden",
      type: "string",
      arg: "N",
      default: "1000",
      help: "hidden width of the coupling networks (and of the MLP)",
    },
    {
      name: "depth",
      type: "string",
      arg: "N",
      default: "4",
      help: "hidden-to-hidden layers per network",
    },
    {
      name: "rep-dim",
      type: "string",
      arg: "N",
      default: "128",
      help: "output dimension of the MLP baseline",
    },
    {
      name: "nu",
      type: "string",
      arg: "X",
      default: "0.05",
      help: "target fraction of training points outside the sphere",
    },
    { name: "k", type: "string", arg: "N", default: "2", help: "epochs between radius updates" },
    { name: "epochs", type: "string", arg: "N", default: "120", help: "epochs" },
    { name: "lr", type: "string", arg: "X", default: "1e-3", help: "Adam learning rate" },
    {
      name: "lr-step",
      type: "string",
      arg: "N",
      default: "40",
      help: "multiply lr by 0.1 every N epochs",
    },
    {
      name: "batch-size",
      type: "string",
      arg: "N",
      default: "64",
      help: "feature vectors per batch",
    },
    { name: "no-standardise", type: "boolean", help: "do not standardise features per dimension" },
    {
      name: "tiles",
      type: "string",
      arg: "N",
      help: "crops per image side (default: as the map was trained)",
    },
    {
      name: "eps",
      type: "string",
      arg: "X",
      default: "0.1",
      help: "centre coordinates nearer 0 are pushed out to +-eps",
    },
    {
      name: "seed",
      type: "string",
      arg: "N",
      default: "0",
      help: "seed of initialisation and shuffling",
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
      type: "string",
      arg: "N",
      default: "10",
      help: "write a checkpoint every N epochs (and after the last)",
    },
    BACKEND_FLAG,
  ],
  async run(a) {
    const modelName = str(a, "model-name");
    if (!modelName) throw new UsageError("train-flow: --model-name RUN is required (see --help)");
    const res = await trainFlow({
      modelName,
      runs: str(a, "runs", "runs"),
      name: str(a, "name"),
      resume: bool(a, "resume"),
      model: str(a, "model", "flow") as "flow" | "mlp",
      couplings: num(a, "couplings", { int: true, min: 1 }),
      hidden: num(a, "hidden", { int: true, min: 1 }),
      depth: num(a, "depth", { int: true, min: 0 }),
      repDim: num(a, "rep-dim", { int: true, min: 1 }),
      nu: num(a, "nu", { min: 0, max: 1 }),
      k: num(a, "k", { int: true, min: 1 }),
      epochs: num(a, "epochs", { int: true, min: 1 }),
      lr: num(a, "lr", { min: 0 }),
      lrStep: num(a, "lr-step", { int: true, min: 1 }),
      batchSize: num(a, "batch-size", { int: true, min: 1 }),
      standardise: !bool(a, "no-standardise"),
      tiles: num(a, "tiles", { int: true, min: 1, max: 16 }),
      eps: num(a, "eps", { min: 0 }),
      seed: num(a, "seed", { int: true }),
      skipBad: bool(a, "skip-bad"),
      stopAfter: num(a, "stop-after", { int: true, min: 1 }),
      checkpointEvery: num(a, "checkpoint-every", { int: true, min: 1 }),
      backend: str(a, "backend", "auto") as BackendName,
    });
    console.log(
      `one-class run ${res.run}: ${res.epochs.length} epoch(s), ${res.seconds.toFixed(1)} s`,
    );
    return 0;
  },
};
