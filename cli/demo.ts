/**
 * `cgvsni demo`: the whole method on the dataset shipped in `dataset/`, small preset: image map,
 * one-class model, evaluation on every renderer, HTML report. Re-running reuses what finished.
 *
 * @module
 */

import { resolve } from "node:path";
import type { BackendName } from "../lib/backends/select.ts";
import { fmtCi, oneclassLabel } from "../lib/eval/evaluate.ts";
import { pipeline } from "../lib/eval/experiment.ts";
import { writeReport } from "../lib/eval/report.ts";
import { BACKEND_FLAG, type Command, num, RUNS_FLAG, str, THREADS_FLAG } from "./_args.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";
import { setThreads } from "./_threads.ts";

/** Settings of the demo: the small preset, tuned to train in about a minute on two cores. */
export const DEMO = {
  renderer: "Cycles",
  map: { preset: "small", tiles: 2, epochs: 40, lr: 0.01, lrStep: 15 },
  oneclass: { tiles: 2, settings: { hidden: 256, epochs: 60, lrStep: 30 } },
  evaluation: { tiles: 2, bootstrap: 1000 },
};

/** The `demo` command. */
export const demoCommand: Command = {
  name: "demo",
  usage: "[--data DIR] [--name NAME]",
  summary:
    "Run the whole pipeline (map, one-class model, evaluation, report) on the shipped dataset.",
  description: `
Trains the image map on natural vs ${DEMO.renderer} images of dataset/ (small preset, 2x2 crops
per image), fits the one-class flow on the natural images held back for it, evaluates head and
flow against every renderer with bootstrap confidence intervals, and writes
runs/NAME/report.html. About a minute on two CPU cores with the native backend. Re-running
reuses finished stages.`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    { name: "data", type: "string", arg: "DIR", default: "dataset", help: "dataset folder" },
    { name: "name", type: "string", arg: "NAME", default: "demo", help: "run name" },
    RUNS_FLAG,
    BACKEND_FLAG,
    THREADS_FLAG,
  ],
  async run(a) {
    setThreads(num(a, "threads", { int: true, min: 1 }));
    const t0 = performance.now();
    const runs = resolve(str(a, "runs", "runs")!);
    const name = str(a, "name", "demo")!;
    const backend = str(a, "backend", "auto") as BackendName;
    const ev = await pipeline({
      data: str(a, "data", "dataset")!,
      runs,
      run: name,
      renderers: [DEMO.renderer],
      map: { ...DEMO.map, backend },
      oneclass: { ...DEMO.oneclass, backend },
      evaluation: { ...DEMO.evaluation, backend },
    });
    const report = await writeReport(runs, name, ev.oneclassRun);
    console.log("\ntest split, natural vs each renderer (* = seen in training):");
    for (const r of ev.results) {
      console.log(
        `  ${(r.renderer + (r.seen ? "*" : "")).padEnd(8)} head AUC ${fmtCi(r.head?.auc)} HTER ${
          fmtCi(r.head?.hter)
        } | ` +
          `${oneclassLabel(ev)} AUC ${fmtCi(r.oneclass.auc)} HTER ${fmtCi(r.oneclass.hter)}`,
      );
    }
    console.log(
      `\ndone in ${((performance.now() - t0) / 60000).toFixed(1)} min; report: ${report}`,
    );
    return 0;
  },
};
