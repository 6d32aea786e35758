/**
 * `cgvsni experiment`: the renderer matrix (pairs) or leave-one-renderer-out.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import {
  experiment,
  EXPERIMENT_KINDS,
  type ExperimentOptions,
  experimentPlan,
  type ExperimentProtocol,
  matrixMarkdown,
} from "../lib/eval/experiment.ts";
import { CLUSTER_FLAGS, execute, shardingOf } from "./_cluster.ts";
import { FEATURE_SOURCES } from "../lib/features/sources.ts";
import { ONECLASS_KINDS } from "../lib/oneclass/estimator.ts";
import { choice, type Command, COMPUTE_FLAGS, num, RUNS_FLAG, str } from "./_args.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";
import { FEATURES_FLAG, ONECLASS_FLAG, STAGE_FLAGS, stageOptions } from "./_stages.ts";
import { DEFAULT_DATA } from "../lib/data/dataset.ts";
import { EXPERIMENT_DEFAULTS } from "../lib/eval/experiment.ts";

/** The `experiment` command. */
export const experimentCommand: Command = {
  name: "experiment",
  usage: "--data DIR [--protocol pairs|loro] [--name NAME] [flags]",
  summary:
    "Train and evaluate every stage per renderer: the train x test matrix, or leave-one-renderer-out.",
  description: `
--protocol pairs (default): for each renderer R, a map trained on natural + R, tested on every
renderer. --protocol loro: for each renderer R, a map trained on natural + every other renderer,
so R is unseen by every stage; matrix.md then leads with the held-out renderer's results.
Each row also fits the one-class model (--oneclass on --features) on natural images only and
evaluates head and one-class model with 95% CIs. Writes runs/NAME/matrix.json and matrix.md;
runs are NAME-<R> (pairs) or NAME-no<R> (loro). Resumable: finished stages are reused.
The experiment is a graph of units (runs/NAME/graph.json: per row map -> feature vectors (in
--shards N slices, a job array on Slurm) -> one-class model -> evaluation, then the matrix);
--executor slurm hands them to Slurm as jobs with dependencies (docs/cluster.md) and
deno task status runs/NAME follows them.`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    { name: "data", type: "string", arg: "DIR", default: DEFAULT_DATA, help: "dataset folder" },
    RUNS_FLAG,
    {
      name: "name",
      type: "string",
      arg: "NAME",
      default: EXPERIMENT_DEFAULTS.name,
      help: "experiment name",
    },
    {
      name: "protocol",
      type: "string",
      arg: "P",
      default: EXPERIMENT_DEFAULTS.protocol,
      help: "pairs | loro (leave one renderer out)",
    },
    {
      name: "renderers",
      type: "string",
      arg: "A,B",
      help: "rows: training (pairs) or held-out (loro) renderers (default: all)",
    },
    FEATURES_FLAG,
    ONECLASS_FLAG,
    ...STAGE_FLAGS,
    {
      name: "seed",
      type: "string",
      arg: "N",
      default: "0",
      help: "seed (split, initialisation, sampling)",
    },
    ...CLUSTER_FLAGS,
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const backend = str(a, "backend", "auto") as BackendName;
    const s = stageOptions(a, backend);
    const seed = num(a, "seed", { int: true });
    const how = shardingOf(a);
    const run = how?.executor === "slurm"
      ? async (o: ExperimentOptions) =>
        await execute(await experimentPlan(o), how, EXPERIMENT_KINDS)
      : undefined;
    const o: ExperimentOptions = {
      data: str(a, "data", DEFAULT_DATA)!,
      runs: str(a, "runs"),
      name: str(a, "name"),
      protocol: choice(a, "protocol", ["pairs", "loro"] as ExperimentProtocol[]),
      renderers: str(a, "renderers")?.split(",").map((x) => x.trim()).filter(Boolean),
      map: { ...s.map, seed },
      oneclass: {
        ...s.oneclass,
        seed,
        features: choice(a, "features", FEATURE_SOURCES),
        oneclass: choice(a, "oneclass", ONECLASS_KINDS),
      },
      evaluation: s.evaluation,
      featureShards: how?.shards,
    };
    if (run) return await run(o);
    const m = await experiment(o);
    console.log(matrixMarkdown(m));
    console.log(`matrix written to ${m.dir}/matrix.md`);
    return 0;
  },
};
