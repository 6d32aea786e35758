/**
 * `cgvsni robustness`: the evaluation under JPEG, blur, resizing and noise.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import { UsageError } from "../lib/core/errors.ts";
import {
  robustness,
  ROBUSTNESS_GRID,
  ROBUSTNESS_KINDS,
  robustnessMarkdown,
  type RobustnessOptions,
  robustnessPlan,
} from "../lib/eval/robustness.ts";
import { CLUSTER_FLAGS, execute, shardingOf } from "./_cluster.ts";
import { type Command, COMPUTE_FLAGS, num, ONECLASS_RUN_FLAG, RUNS_FLAG, str } from "./_args.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";
import { DEFAULT_EVAL_TILES } from "../lib/eval/evaluate.ts";
import { DEFAULT_BOOTSTRAP } from "../lib/eval/metrics.ts";

/** The `robustness` command. */
export const robustnessCommand: Command = {
  name: "robustness",
  usage: "--map RUN [--oneclass-run NAME] [--test-data DIR] [--grid A,B]",
  summary:
    "Evaluate head and one-class model with every test image perturbed (JPEG, WebP, blur, resize, noise).",
  description: `
Repeats the evaluation with every test image of both classes perturbed alike, after decoding and
before tiling: ${ROBUSTNESS_GRID.join(", ")}. Thresholds stay as trained (never re-tuned per
perturbation). Natural vs every render pooled: AUC and HTER with 95% CIs per perturbation, both
stages, and AUC per renderer. Writes RUN/NAME/robustness/: robustness.md, .json, .svg (AUC against
the level) and the table the report shows, and each perturbation's evaluation in a folder of its
own. The grid is a graph of units (an evaluation per perturbation, then the table): a finished
perturbation is not evaluated again unless the models changed; --executor slurm runs each as a
job (docs/cluster.md).`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    { name: "map", type: "string", arg: "RUN", help: "the map run" },
    ONECLASS_RUN_FLAG,
    RUNS_FLAG,
    {
      name: "test-data",
      type: "string",
      arg: "DIR",
      help: "score every image of this dataset folder instead of the test split",
    },
    {
      name: "grid",
      type: "string",
      arg: "LIST",
      help: "perturbations, e.g. none,jpeg:75,blur:1 (default: the whole grid)",
    },
    {
      name: "tiles",
      type: "string",
      arg: "N",
      default: String(DEFAULT_EVAL_TILES),
      help: "evaluation crops per image side",
    },
    {
      name: "bootstrap",
      type: "string",
      arg: "N",
      default: String(DEFAULT_BOOTSTRAP),
      help: "bootstrap resamples",
    },
    ...CLUSTER_FLAGS.filter((f) => f.name !== "shards"),
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    if (!str(a, "map") && !str(a, "oneclass-run")) {
      throw new UsageError("robustness: --map RUN is required (see --help)");
    }
    const o: RobustnessOptions = {
      map: str(a, "map"),
      oneclass: str(a, "oneclass-run"),
      runs: str(a, "runs"),
      testData: str(a, "test-data"),
      grid: str(a, "grid")?.split(",").map((x) => x.trim()).filter(Boolean),
      tiles: num(a, "tiles", { int: true, min: 1, max: 16 }),
      bootstrap: num(a, "bootstrap", { int: true, min: 1 }),
      backend: str(a, "backend", "auto") as BackendName,
    };
    const how = shardingOf(a);
    if (how?.executor === "slurm") {
      return await execute(await robustnessPlan(o), how, ROBUSTNESS_KINDS);
    }
    const r = await robustness(o);
    console.log(robustnessMarkdown(r));
    console.log(`written to ${r.dir}`);
    return 0;
  },
};
