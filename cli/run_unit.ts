/**
 * `cgvsni run-unit`: one unit of a graph, or one shard of it: what each Slurm job runs.
 *
 * @module
 */

import { fingerprint, readGraph, unitOf } from "../lib/cluster/graph.ts";
import { parseShard } from "../lib/cluster/shard.ts";
import { CgvsniError, UsageError } from "../lib/core/errors.ts";
import { type Command, COMPUTE_FLAGS, str } from "./_args.ts";
import { runHere } from "./_cluster.ts";
import { MODEL_TASK } from "./_perms.ts";
import { UNIT_KINDS } from "./_units.ts";

/** The `run-unit` command. */
export const runUnitCommand: Command = {
  name: "run-unit",
  usage: "DIR UNIT [--shard i/N]",
  summary: "Run one unit of a graph (what each Slurm job runs), or one shard of it.",
  description: `
Runs unit UNIT of the graph in DIR (DIR/graph.json, written by experiment or detect --shards),
each of its shards not yet finished, or only --shard i/N. Leaves DIR/units/UNIT/shard-i-of-N.done
(or .failed with the error). Training stopped by SIGTERM writes a checkpoint and exits 75;
running the unit again resumes it.`,
  permissions: MODEL_TASK,
  writes: "the folders the graph names (runs/ by default)",
  flags: [
    { name: "shard", type: "string", arg: "i/N", help: "only this shard" },
    {
      name: "expect",
      type: "string",
      arg: "F",
      help: "run only if the unit's fingerprint is F (job scripts: the unit as submitted)",
    },
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    if (a.positionals.length !== 2) throw new UsageError("run-unit: give DIR and UNIT");
    const g = await readGraph(a.positionals[0]);
    const shard = str(a, "shard") ? parseShard(str(a, "shard")!) : undefined;
    const expect = str(a, "expect");
    if (expect && fingerprint(unitOf(g, a.positionals[1])) !== expect) {
      throw new CgvsniError(
        `unit ${
          a.positionals[1]
        } of ${g.dir} changed since this job was submitted (the graph was ` +
          `written again with other settings): nothing run; submit again (deno task submit ${g.dir})`,
      );
    }
    const { code, summary } = await runHere(g, UNIT_KINDS, { only: a.positionals[1], shard });
    if (summary.reused.length) console.error(`unit ${a.positionals[1]} had finished already`);
    return code;
  },
};
