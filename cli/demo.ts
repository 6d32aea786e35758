/**
 * `cgvsni demo`: the whole method on the dataset shipped in `dataset/`, small preset: image map,
 * one-class model, evaluation on every renderer, HTML report. Re-running reuses what finished.
 *
 * @module
 */

import { resolve } from "node:path";
import type { BackendName } from "../lib/backends/select.ts";
import { fmtCi, oneclassLabel } from "../lib/eval/results.ts";
import { pipeline } from "../lib/eval/experiment.ts";
import { writeReport } from "../lib/eval/report.ts";
import { type Command, COMPUTE_FLAGS, RUNS_FLAG, str } from "./_args.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";
import { DEFAULT_DATA } from "../lib/data/dataset.ts";
import { DEFAULT_BOOTSTRAP } from "../lib/eval/metrics.ts";
import { DEFAULT_SOURCE } from "../lib/features/sources.ts";
import { DEFAULT_KIND } from "../lib/oneclass/estimator.ts";
import { DEFAULT_ONECLASS_RUN } from "../lib/oneclass/train.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";

/**
 * Settings of the demo: the small preset, tuned to run in two to three minutes on two cores.
 * The map learns natural vs Cycles and EEVEE (every image re-encoded as JPEG 75 first, so
 * compression history cannot tell the classes apart); POV-Ray stays unseen by every stage.
 */
export const DEMO = {
  name: "demo",
  renderers: ["Cycles", "EEVEE"],
  map: { preset: "small", tiles: 2, epochs: 40, lr: 0.01, lrStep: 15, matchCompression: 75 },
  /** The method's one-class stage, and the one the comparison on cgbench recommends. */
  oneclass: [
    {
      name: DEFAULT_ONECLASS_RUN,
      features: DEFAULT_SOURCE,
      oneclass: DEFAULT_KIND,
      tiles: 2,
      settings: { hidden: 256, epochs: 60, lrStep: 30 },
    },
    { name: "residual-gauss", features: "residual" as const, oneclass: "gauss" as const },
  ],
  evaluation: { tiles: 2, bootstrap: DEFAULT_BOOTSTRAP },
};

/** The `demo` command. */
export const demoCommand: Command = {
  name: "demo",
  usage: "[--data DIR] [--name NAME]",
  summary:
    "Run the whole pipeline (map, one-class model, evaluation, report) on the shipped dataset.",
  description: `
Trains the image map on natural vs ${DEMO.renderers.join(" and ")} images of dataset/ (small preset,
2x2 crops per image, every image re-encoded as JPEG ${DEMO.map.matchCompression} first), fits two
one-class models on natural images only (the method: Flow-SVDD on L9; and a Gaussian on the
residual statistics, which needs no map), evaluates the head and both against every renderer
(POV-Ray is unseen by every stage) with bootstrap confidence intervals, and writes
runs/NAME/report.html. Two to three minutes on two CPU cores with the native backend. Re-running
reuses finished stages.`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    { name: "data", type: "string", arg: "DIR", default: DEFAULT_DATA, help: "dataset folder" },
    { name: "name", type: "string", arg: "NAME", default: DEMO.name, help: "run name" },
    RUNS_FLAG,
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const t0 = performance.now();
    const runs = resolve(str(a, "runs", DEFAULT_RUNS)!);
    const name = str(a, "name", DEMO.name)!;
    const backend = str(a, "backend", "auto") as BackendName;
    const evs = [];
    for (const oc of DEMO.oneclass) {
      evs.push(
        await pipeline({
          data: str(a, "data", DEFAULT_DATA)!,
          runs,
          run: name,
          renderers: DEMO.renderers,
          map: { ...DEMO.map, backend },
          oneclass: { ...oc, backend },
          evaluation: { ...DEMO.evaluation, backend },
        }),
      );
    }
    const report = await writeReport(runs, name, DEMO.oneclass.map((o) => o.name));
    console.log("\ntest split, natural vs each renderer (* = seen in training):");
    for (const [i, r] of evs[0].results.entries()) {
      console.log(
        `  ${(r.renderer + (r.seen ? "*" : "")).padEnd(8)} head AUC ${fmtCi(r.head?.auc)} HTER ${
          fmtCi(r.head?.hter)
        }`,
      );
      for (const ev of evs) {
        const o = ev.results[i].oneclass, f = ev.results[i].fused;
        console.log(`           ${oneclassLabel(ev)} AUC ${fmtCi(o.auc)} HTER ${fmtCi(o.hter)}`);
        if (f) {
          console.log(`             fused with the head AUC ${fmtCi(f.auc)} HTER ${fmtCi(f.hter)}`);
        }
      }
    }
    console.log(
      `\ndone in ${((performance.now() - t0) / 60000).toFixed(1)} min; report: ${report}`,
    );
    return 0;
  },
};
