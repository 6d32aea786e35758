/**
 * `cgvsni experiment`: the train x test renderer matrix.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import { experiment } from "../lib/eval/experiment.ts";
import { matrixMarkdown } from "../lib/eval/experiment.ts";
import { BACKEND_FLAG, type Command, num, str } from "./_args.ts";

/** The `experiment` command. */
export const experimentCommand: Command = {
  name: "experiment",
  usage: "--data DIR [--name NAME] [flags]",
  summary:
    "For each renderer: train a map on natural + it, train a one-class model, evaluate on all renderers.",
  description: `
Fills the train x test renderer matrix (rows: training renderer; columns: test renderer; cells:
head and one-class HTER and AUC with 95% CIs) and writes runs/NAME/matrix.json and matrix.md.
Runs are named NAME-<renderer>. Resumable: a finished map, one-class model or evaluation is
reused, an interrupted one resumed. Map, flow and evaluation flags are passed to every row.`,
  permissions:
    "--allow-read --allow-write=runs --allow-env=IMAGESCRIPT_WASM_SIMD,CGVSNI_DNNL,CGVSNI_POOL_MB --allow-ffi --allow-sys=systemMemoryInfo",
  flags: [
    { name: "data", type: "string", arg: "DIR", default: "dataset", help: "dataset folder" },
    { name: "runs", type: "string", arg: "DIR", default: "runs", help: "folder of run folders" },
    { name: "name", type: "string", arg: "NAME", default: "experiment", help: "experiment name" },
    { name: "renderers", type: "string", arg: "A,B", help: "training renderers (default: all)" },
    { name: "preset", type: "string", arg: "P", default: "small", help: "map architecture preset" },
    {
      name: "tiles",
      type: "string",
      arg: "N",
      default: "1",
      help: "map (and flow) training crops per image side",
    },
    { name: "epochs", type: "string", arg: "N", help: "map epochs (preset default)" },
    { name: "lr", type: "string", arg: "X", help: "map learning rate (preset default)" },
    { name: "lr-step", type: "string", arg: "N", help: "map lr x0.1 every N epochs" },
    { name: "flow-epochs", type: "string", arg: "N", default: "120", help: "one-class epochs" },
    {
      name: "flow-hidden",
      type: "string",
      arg: "N",
      default: "1000",
      help: "one-class hidden width",
    },
    {
      name: "flow-tiles",
      type: "string",
      arg: "N",
      help: "one-class training crops per image side (default: --tiles)",
    },
    {
      name: "model",
      type: "string",
      arg: "M",
      default: "flow",
      help: "one-class model: flow | mlp",
    },
    { name: "nu", type: "string", arg: "X", default: "0.05", help: "one-class nu" },
    {
      name: "eval-tiles",
      type: "string",
      arg: "N",
      default: "3",
      help: "evaluation crops per image side",
    },
    { name: "bootstrap", type: "string", arg: "N", default: "1000", help: "bootstrap resamples" },
    { name: "seed", type: "string", arg: "N", default: "0", help: "seed (split, init, sampling)" },
    BACKEND_FLAG,
  ],
  async run(a) {
    const backend = str(a, "backend", "auto") as BackendName;
    const tiles = num(a, "tiles", { int: true, min: 1, max: 16 });
    const m = await experiment({
      data: str(a, "data", "dataset")!,
      runs: str(a, "runs"),
      name: str(a, "name"),
      renderers: str(a, "renderers")?.split(",").map((s) => s.trim()).filter(Boolean),
      map: {
        preset: str(a, "preset"),
        tiles,
        epochs: num(a, "epochs", { int: true, min: 1 }),
        lr: num(a, "lr", { min: 0 }),
        lrStep: num(a, "lr-step", { int: true, min: 1 }),
        seed: num(a, "seed", { int: true }),
        backend,
      },
      flow: {
        model: str(a, "model") as "flow" | "mlp" | undefined,
        epochs: num(a, "flow-epochs", { int: true, min: 1 }),
        hidden: num(a, "flow-hidden", { int: true, min: 1 }),
        tiles: num(a, "flow-tiles", { int: true, min: 1, max: 16 }) ?? tiles,
        nu: num(a, "nu", { min: 0, max: 1 }),
        backend,
      },
      evaluation: {
        tiles: num(a, "eval-tiles", { int: true, min: 1, max: 16 }),
        bootstrap: num(a, "bootstrap", { int: true, min: 1 }),
        backend,
      },
    });
    console.log(matrixMarkdown(m));
    console.log(`matrix written to ${m.dir}/matrix.md`);
    return 0;
  },
};
