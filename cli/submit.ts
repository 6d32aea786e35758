/**
 * `cgvsni submit`: send a graph's unfinished units to an executor again: Slurm jobs for what has
 * neither finished nor is queued, or this process.
 *
 * @module
 */

import { readGraph } from "../lib/cluster/graph.ts";
import { parseShard } from "../lib/cluster/shard.ts";
import { UsageError } from "../lib/core/errors.ts";
import { type Command, COMPUTE_FLAGS, str } from "./_args.ts";
import { CLUSTER_FLAGS, execute, runHere, shardingOf } from "./_cluster.ts";
import { MODEL_TASK, SLURM_RUN } from "./_perms.ts";
import { UNIT_KINDS } from "./_units.ts";

/** The `submit` command. */
export const submitCommand: Command = {
  name: "submit",
  usage: "DIR [--executor local|slurm] [slurm flags] [--unit ID [--shard i/N]]",
  summary: "Send a graph's unfinished units to an executor again (only what has not finished).",
  description: `
DIR holds a graph of units (written by experiment or detect with --executor or --shards).
--executor slurm (default) submits the units that have neither finished nor are still queued or
running, and of a sharded unit only its missing shards; --executor local runs them here.
--unit ID runs or submits that unit alone (with --shard i/N, that shard alone, here).`,
  permissions: `${MODEL_TASK} ${SLURM_RUN}`,
  writes: "DIR (scripts, logs, job list) and what the units write",
  flags: [
    { name: "unit", type: "string", arg: "ID", help: "only this unit" },
    { name: "shard", type: "string", arg: "i/N", help: "with --unit: only this shard (local)" },
    ...CLUSTER_FLAGS.filter((f) => f.name !== "shards").map((f) =>
      f.name === "executor" ? { ...f, default: "slurm" } : f
    ),
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const g = await readGraph(folderOf(a.positionals));
    const how = shardingOf({ ...a, values: { executor: "slurm", ...a.values } })!;
    const unit = str(a, "unit"), shard = str(a, "shard");
    if (shard && !unit) throw new UsageError("submit: --shard needs --unit");
    if (unit) {
      if (how.executor === "local" || shard) {
        return (await runHere(g, UNIT_KINDS, {
          only: unit,
          shard: shard ? parseShard(shard) : undefined,
          force: !!shard, // a piece named by hand runs again, even if it finished
        })).code;
      }
      return await execute(
        {
          ...g,
          units: g.units.filter((u) => u.id === unit).map((u) => ({ ...u, after: [] })),
        },
        how,
        UNIT_KINDS,
      );
    }
    return await execute(g, how, UNIT_KINDS);
  },
};

function folderOf(positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError("submit: give the folder of a graph");
  return positionals[0];
}
