/**
 * `cgvsni features`: a map run's feature vectors computed ahead, a slice of the images at a time.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { BackendName } from "../lib/backends/select.ts";
import { writeGraph } from "../lib/cluster/graph.ts";
import { parseShard } from "../lib/cluster/shard.ts";
import { UsageError } from "../lib/core/errors.ts";
import { DEFAULT_CROPS, DEFAULT_EVAL_TILES } from "../lib/eval/evaluate.ts";
import type { CropMode } from "../lib/eval/evaluation.ts";
import {
  FEATURES_KINDS,
  precomputeFeatures,
  type PrecomputeOptions,
} from "../lib/eval/precompute.ts";
import { FEATURE_SOURCES } from "../lib/features/sources.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";
import { bool, choice, type Command, COMPUTE_FLAGS, num, RUNS_FLAG, str } from "./_args.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { CLUSTER_FLAGS, execute, shardingOf } from "./_cluster.ts";
import { MODEL_TASK, WRITES_RUNS } from "./_perms.ts";
import { FEATURES_FLAG } from "./_stages.ts";

/** The `features` command. */
export const featuresCommand: Command = {
  name: "features",
  usage: "--map RUN [--features SRC] [--shard i/N | --shards N [--executor slurm]] [flags]",
  summary: "Compute a map run's feature vectors ahead, in slices (one job each on a cluster).",
  description: `
The vectors train-oneclass and evaluate would compute on map run RUN, computed ahead: the
one-class source's (--features) on the natural images the one-class model trains on (on
--tiles crops per side, default: as the map was trained), and on the test split the head's
p(CG) and the source's vectors on the evaluation's crops (--crops, --eval-tiles). --shard i/N
computes the i-th of N slices of those images (sorted by name) into RUN/features/shards/;
train-oneclass and evaluate then put their lists together from the slices, exactly what they
would have computed. --shards N runs all N here, or with --executor slurm as a job array
(docs/cluster.md). An experiment does this per row (experiment --shards N).`,
  permissions: MODEL_TASK,
  writes: WRITES_RUNS,
  flags: [
    { name: "map", type: "string", arg: "RUN", help: "the map run" },
    FEATURES_FLAG,
    {
      name: "tiles",
      type: "string",
      arg: "N",
      help: "one-class training crops per image side (default: as the map was trained)",
    },
    {
      name: "crops",
      type: "string",
      arg: "MODE",
      default: DEFAULT_CROPS,
      help: "the evaluation's crops: tiles | ten | center",
    },
    {
      name: "eval-tiles",
      type: "string",
      arg: "N",
      default: String(DEFAULT_EVAL_TILES),
      help: "the evaluation's crops per image side",
    },
    { name: "shard", type: "string", arg: "i/N", help: "compute only the i-th of N slices" },
    { name: "quiet", type: "boolean", help: "no progress bar" },
    RUNS_FLAG,
    ...CLUSTER_FLAGS,
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const map = str(a, "map");
    if (!map) throw new UsageError("name the map run: --map RUN");
    const runs = resolve(str(a, "runs", DEFAULT_RUNS)!);
    const params: Omit<PrecomputeOptions, "progress"> = {
      runs,
      map,
      features: choice(a, "features", FEATURE_SOURCES),
      tiles: num(a, "tiles", { int: true, min: 1, max: 16 }),
      crops: choice(a, "crops", ["tiles", "ten", "center"] as CropMode[]),
      evalTiles: num(a, "eval-tiles", { int: true, min: 1, max: 16 }),
      backend: str(a, "backend", "auto") as BackendName,
    };
    const how = shardingOf(a), shardText = str(a, "shard");
    if (how && shardText) throw new UsageError("features: --shards and --shard exclude each other");
    if (how) {
      const dir = join(runs, map, "features");
      const graph = await writeGraph({
        version: 1,
        name: `features-${map}`,
        dir,
        writes: [runs],
        units: [{ id: "features", kind: "features", after: [], shards: how.shards, params }],
      });
      return await execute(graph, how, FEATURES_KINDS);
    }
    const files = await precomputeFeatures({
      ...params,
      shard: shardText ? parseShard(shardText) : undefined,
      progress: makeProgress({ quiet: bool(a, "quiet") }),
    });
    for (const f of files) console.log(f);
    return 0;
  },
};
