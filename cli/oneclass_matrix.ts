/**
 * `cgvsni oneclass-matrix`: every one-class model x feature source on unseen renderers, several
 * seeds.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import type { ExperimentProtocol } from "../lib/eval/experiment.ts";
import {
  ONECLASS_MATRIX_KINDS,
  oneclassMatrix,
  oneclassMatrixMarkdown,
  type OneClassMatrixOptions,
  oneclassMatrixPlan,
} from "../lib/eval/oneclass_matrix.ts";
import { CLUSTER_FLAGS, execute, shardingOf } from "./_cluster.ts";
import { FEATURE_SOURCES } from "../lib/features/sources.ts";
import { UsageError } from "../lib/core/errors.ts";
import { choice, type Command, COMPUTE_FLAGS, RUNS_FLAG, str } from "./_args.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";
import { kindsOf, sourcesOf, STAGE_FLAGS, stageOptions } from "./_stages.ts";
import { DEFAULT_DATA } from "../lib/data/dataset.ts";
import { MATRIX_DEFAULTS, MATRIX_KINDS } from "../lib/eval/oneclass_matrix.ts";

/** The `oneclass-matrix` command. */
export const oneclassMatrixCommand: Command = {
  name: "oneclass-matrix",
  usage: "--data DIR [--seeds 0,1,2] [--features all] [--oneclass all] [flags]",
  summary:
    "Compare every one-class model x feature source on renderers no stage saw, over several seeds.",
  description: `
For each seed and each renderer R, a map trained on natural + every other renderer (leave one
renderer out; --protocol pairs: natural + R); on its split, every one-class model (${
    MATRIX_KINDS.join(", ")
  }; gmm too when --oneclass names it)
on every feature source (${FEATURE_SOURCES.join(", ")}), fitted on natural images only and
evaluated on the test split against every renderer; residual features need no map and are
fitted once per seed. Reports ROC AUC, HTER and NI recall at the natural-only threshold, with
95% CIs and the mean and range over seeds, next to the supervised head.
Writes runs/NAME/oneclass-matrix.json and .md. Resumable: a graph of units (runs/NAME/graph.json:
per seed and renderer a map, per map its cells, each a model fitted and evaluated, then the
table); --executor slurm runs each as a job (docs/cluster.md).`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    { name: "data", type: "string", arg: "DIR", default: DEFAULT_DATA, help: "dataset folder" },
    RUNS_FLAG,
    {
      name: "name",
      type: "string",
      arg: "NAME",
      default: MATRIX_DEFAULTS.name,
      help: "name of the comparison (and prefix of its runs)",
    },
    {
      name: "protocol",
      type: "string",
      arg: "P",
      default: MATRIX_DEFAULTS.protocol,
      help: "loro | pairs",
    },
    {
      name: "seeds",
      type: "string",
      arg: "A,B",
      default: MATRIX_DEFAULTS.seeds.join(","),
      help: "seeds (split, maps, models)",
    },
    {
      name: "features",
      type: "string",
      arg: "LIST",
      default: "all",
      help: "feature sources compared",
    },
    {
      name: "oneclass",
      type: "string",
      arg: "LIST",
      default: "all",
      help: "one-class models compared",
    },
    ...STAGE_FLAGS,
    ...CLUSTER_FLAGS.filter((f) => f.name !== "shards"),
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const seeds = (str(a, "seeds") ?? "0,1,2").split(",").map((x) => Number(x.trim()));
    if (seeds.length === 0 || seeds.some((x) => !Number.isInteger(x))) {
      throw new UsageError(
        `--seeds must be integers separated by commas, got "${str(a, "seeds")}"`,
      );
    }
    const backend = str(a, "backend", "auto") as BackendName;
    const s = stageOptions(a, backend);
    const o: OneClassMatrixOptions = {
      data: str(a, "data", DEFAULT_DATA)!,
      runs: str(a, "runs"),
      name: str(a, "name"),
      protocol: choice(a, "protocol", ["loro", "pairs"] as ExperimentProtocol[]),
      seeds,
      sources: sourcesOf(a),
      kinds: kindsOf(a),
      map: s.map,
      oneclass: s.oneclass,
      evaluation: s.evaluation,
    };
    const how = shardingOf(a);
    if (how?.executor === "slurm") {
      return await execute(await oneclassMatrixPlan(o), how, ONECLASS_MATRIX_KINDS);
    }
    const m = await oneclassMatrix(o);
    console.log(oneclassMatrixMarkdown(m));
    console.log(`written to ${m.dir}/oneclass-matrix.md`);
    return 0;
  },
};
