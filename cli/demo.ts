/**
 * `cgvsni demo`: the whole method on the dataset shipped in `dataset/`, small preset: image map,
 * one-class model, evaluation on every renderer, HTML report. Re-running reuses what finished.
 *
 * @module
 */

import { resolve } from "node:path";
import type { BackendName } from "../lib/backends/select.ts";
import { fmtCi } from "../lib/eval/evaluate.ts";
import { pipeline } from "../lib/eval/experiment.ts";
import { writeReport } from "../lib/eval/report.ts";
import { runPath } from "../lib/runs/folder.ts";
import { BACKEND_FLAG, type Command, str } from "./_args.ts";

/** Settings of the demo: the small preset, tuned to train in minutes on two cores. */
export const DEMO = {
  renderer: "Cycles",
  map: { preset: "small", tiles: 2, epochs: 40, lr: 0.01, lrStep: 15 },
  flow: { tiles: 2, hidden: 256, epochs: 60, lrStep: 30 },
  evaluation: { tiles: 2, bootstrap: 1000 },
};

/** The `demo` command. */
export const demoCommand: Command = {
  name: "demo",
  usage: "[--data DIR] [--name NAME]",
  summary:
    "Run the whole pipeline (map, flow, evaluate, report) on the shipped dataset, small preset.",
  description: `
Trains the image map on natural vs ${DEMO.renderer} images of dataset/ (small preset, 2x2 crops
per image), trains the one-class flow on the held-back natural images, evaluates head and flow
against every renderer with bootstrap confidence intervals, and writes runs/NAME/report.html.
A few minutes on two CPU cores with the native backend. Re-running reuses finished stages.`,
  permissions:
    "--allow-read --allow-write=runs --allow-env=IMAGESCRIPT_WASM_SIMD,CGVSNI_DNNL,CGVSNI_POOL_MB --allow-ffi --allow-sys=systemMemoryInfo",
  flags: [
    { name: "data", type: "string", arg: "DIR", default: "dataset", help: "dataset folder" },
    { name: "name", type: "string", arg: "NAME", default: "demo", help: "run name" },
    { name: "runs", type: "string", arg: "DIR", default: "runs", help: "folder of run folders" },
    BACKEND_FLAG,
  ],
  async run(a) {
    const t0 = performance.now();
    const runs = resolve(str(a, "runs", "runs")!);
    const name = str(a, "name", "demo")!;
    const backend = str(a, "backend", "auto") as BackendName;
    const ev = await pipeline({
      data: str(a, "data", "dataset")!,
      runs,
      run: name,
      renderer: DEMO.renderer,
      map: { ...DEMO.map, backend },
      flow: { ...DEMO.flow, backend },
      evaluation: { ...DEMO.evaluation, backend },
    });
    const report = await writeReport(runPath(runs, name));
    console.log("\ntest split, natural vs each renderer (* = seen in training):");
    for (const r of ev.results) {
      console.log(
        `  ${(r.renderer + (r.seen ? "*" : "")).padEnd(8)} head AUC ${fmtCi(r.head.auc)} HTER ${
          fmtCi(r.head.hter)
        } | ` +
          `flow AUC ${fmtCi(r.flow.auc)} HTER ${fmtCi(r.flow.hter)}`,
      );
    }
    console.log(
      `\ndone in ${((performance.now() - t0) / 60000).toFixed(1)} min; report: ${report}`,
    );
    return 0;
  },
};
