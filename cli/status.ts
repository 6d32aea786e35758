/**
 * `cgvsni status`: where each unit of a graph stands: finished and failed from the folder's
 * markers, queued and running from squeue.
 *
 * @module
 */

import { readGraph } from "../lib/cluster/graph.ts";
import { clusterStatus, type Exec, systemExec } from "../lib/cluster/slurm.ts";
import { oneLine, UsageError } from "../lib/core/errors.ts";
import { type Command, EXIT } from "./_args.ts";
import { SLURM_RUN } from "./_perms.ts";
import { UNIT_KINDS } from "./_units.ts";

/** Prints where each unit of a graph stands; `exec` runs squeue (a fake in tests). */
export async function printStatus(dir: string, exec: Exec = systemExec): Promise<number> {
  const g = await readGraph(dir);
  let rows;
  try {
    rows = await clusterStatus(g, exec, UNIT_KINDS);
  } catch (e) {
    console.error(`note: the queue could not be read (${oneLine(e)}); markers only`);
    rows = await clusterStatus(
      g,
      () => Promise.resolve({ code: 1, stdout: "", stderr: "" }),
      UNIT_KINDS,
    );
  }
  const w = Math.max(4, ...rows.map((r) => r.unit.length));
  const k = Math.max(4, ...rows.map((r) => r.kind.length));
  console.log(
    `${"unit".padEnd(w)}  ${"kind".padEnd(k)}  shards  finished  running  queued  failed  lost`,
  );
  for (const r of rows) {
    console.log(
      `${r.unit.padEnd(w)}  ${r.kind.padEnd(k)}  ${String(r.shards).padStart(6)}  ${
        String(r.finished).padStart(8)
      }  ${String(r.running).padStart(7)}  ${String(r.queued).padStart(6)}  ${
        String(r.failed.length).padStart(6)
      }  ${String(r.lost.length).padStart(4)}`,
    );
  }
  for (const r of rows) {
    for (const [i, e] of r.failed) {
      console.log(`failed: ${r.unit} shard ${i}/${r.shards}: ${e}`);
    }
    for (const [i, how] of r.lost) {
      console.log(
        `ended without a result: ${r.unit} shard ${i}/${r.shards} (${how}); see ${g.dir}/logs/`,
      );
    }
  }
  const open = rows.filter((r) => r.finished < r.shards);
  console.log(
    open.length === 0
      ? "every unit finished"
      : `${rows.length - open.length} of ${rows.length} units finished`,
  );
  return open.some((r) => r.failed.length || r.lost.length) ? EXIT.someFailed : EXIT.ok;
}

/** The `status` command. */
export const statusCommand: Command = {
  name: "status",
  usage: "DIR",
  summary: "Where each unit of a graph stands: finished, running, queued, failed.",
  description: `
Reads DIR's markers (what finished, what failed and why) and asks squeue about the jobs submitted
from DIR (queued, running, or ended without a result: killed, out of memory, past its time).
Exit code 3 when a unit failed or a job ended without a result.`,
  permissions: `--allow-read ${SLURM_RUN}`,
  writes: "nothing",
  flags: [],
  run(a) {
    if (a.positionals.length !== 1) throw new UsageError("status: give the folder of a graph");
    return printStatus(a.positionals[0]);
  },
};
