/**
 * `cgvsni evaluate`: the evaluation protocol on a run's test split, head and flow, per renderer.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import { type CropMode, evaluate, fmtCi } from "../lib/eval/evaluate.ts";
import { UsageError } from "../lib/core/errors.ts";
import { BACKEND_FLAG, type Command, num, str } from "./_args.ts";

/** The `evaluate` command. */
export const evaluateCommand: Command = {
  name: "evaluate",
  usage: "--model-name RUN [--flow NAME] [flags]",
  summary:
    "Evaluate head and one-class model on the test split, natural vs every renderer, with 95% CIs.",
  description: `
On RUN's test split (disjoint from everything the map and the flow trained on), for natural
images against every renderer of the dataset, seen in training or not: the supervised head
(p(CG) >= 0.5) and the one-class model (score > 0), each with accuracy, CG recall, NI recall,
HTER = (FPR+FNR)/2, ROC AUC, EER and TPR at FPR = 5%, with 95% stratified-bootstrap
confidence intervals. Image-level scores are means over several crops per image (--crops).
Writes runs/RUN/<flow>/evaluation/: results.json, results.md, roc.svg, histograms.svg.
Unusable test images are listed (skipped.txt) and the rest evaluated.`,
  permissions:
    "--allow-read --allow-write=runs --allow-env=IMAGESCRIPT_WASM_SIMD,CGVSNI_DNNL,CGVSNI_POOL_MB --allow-ffi --allow-sys=systemMemoryInfo",
  flags: [
    { name: "model-name", type: "string", arg: "RUN", help: "the map run to evaluate" },
    {
      name: "flow",
      type: "string",
      arg: "NAME",
      default: "flow",
      help: "the one-class run inside RUN",
    },
    { name: "runs", type: "string", arg: "DIR", default: "runs", help: "folder of run folders" },
    {
      name: "crops",
      type: "string",
      arg: "MODE",
      default: "tiles",
      help: "crops per image: tiles (N x N grid) | ten (TenCrop) | center",
    },
    {
      name: "tiles",
      type: "string",
      arg: "N",
      default: "3",
      help: "tiles per side for --crops tiles",
    },
    {
      name: "bootstrap",
      type: "string",
      arg: "N",
      default: "1000",
      help: "bootstrap resamples for the confidence intervals",
    },
    { name: "seed", type: "string", arg: "N", default: "0", help: "bootstrap seed" },
    BACKEND_FLAG,
  ],
  async run(a) {
    const modelName = str(a, "model-name");
    if (!modelName) throw new UsageError("evaluate: --model-name RUN is required (see --help)");
    const ev = await evaluate({
      modelName,
      flow: str(a, "flow"),
      runs: str(a, "runs"),
      crops: str(a, "crops") as CropMode | undefined,
      tiles: num(a, "tiles", { int: true, min: 1, max: 16 }),
      bootstrap: num(a, "bootstrap", { int: true, min: 1 }),
      seed: num(a, "seed", { int: true }),
      backend: str(a, "backend", "auto") as BackendName,
    });
    for (const r of ev.results) {
      console.log(
        `${(r.renderer + (r.seen ? "*" : "")).padEnd(12)} head HTER ${fmtCi(r.head.hter)} AUC ${
          fmtCi(r.head.auc)
        } | ` +
          `${ev.oneClassKind} HTER ${fmtCi(r.flow.hter)} AUC ${fmtCi(r.flow.auc)}`,
      );
    }
    console.log(`(* = renderer the map was trained on) results in ${ev.dir}`);
    return 0;
  },
};
