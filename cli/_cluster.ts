/**
 * The executor flags (`--executor local|slurm`, `--shards N`, Slurm's partition, account, QOS,
 * resources) shared by the commands that can hand their work to a scheduler, and turning a graph
 * of units into work: here in this process, or as Slurm jobs.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { Graph } from "../lib/cluster/graph.ts";
import {
  type LocalOptions,
  type LocalSummary,
  runLocal,
  type UnitKinds,
} from "../lib/cluster/local.ts";
import {
  arraySpec,
  parseResources,
  SLURM_PROGRAMS,
  type SlurmOptions,
  submit,
} from "../lib/cluster/slurm.ts";
import type { Resources } from "../lib/cluster/graph.ts";
import { UsageError } from "../lib/core/errors.ts";
import { makeProgress } from "../lib/core/progress.ts";
import { choice, EXIT, type Flag, num, type ParsedArgs, str } from "./_args.ts";
import { MODEL_TASK } from "./_perms.ts";

/** The executors. */
export const EXECUTORS = ["local", "slurm"] as const;

/** The executor flags. */
export const CLUSTER_FLAGS: Flag[] = [
  {
    name: "executor",
    type: "string",
    arg: "E",
    default: "local",
    help: "local (this process) | slurm (sbatch jobs; see docs/cluster.md)",
  },
  {
    name: "shards",
    type: "string",
    arg: "N",
    help: "split the work into N jobs (the images; experiment: each row's feature vectors)",
  },
  { name: "partition", setting: true, type: "string", arg: "P", help: "slurm: --partition" },
  { name: "account", setting: true, type: "string", arg: "A", help: "slurm: --account" },
  { name: "qos", setting: true, type: "string", arg: "Q", help: "slurm: --qos" },
  {
    name: "sbatch",
    setting: true,
    type: "string",
    arg: "ARGS",
    help: 'slurm: more sbatch arguments for every job, e.g. "--constraint=avx512 --nice=10"',
  },
  {
    name: "resources",
    setting: true,
    type: "string",
    arg: "K=SPEC",
    help: "slurm: resources of a unit kind, e.g. map=cpus:8,mem:32G,time:2-00:00:00 (';' between)",
  },
  {
    name: "deno-dir",
    setting: true,
    type: "string",
    arg: "DIR",
    help: "slurm: DENO_DIR of the jobs (a shared cache, filled once with deno cache)",
  },
  {
    name: "deno",
    setting: true,
    type: "string",
    arg: "PATH",
    help: "slurm: the deno executable on the nodes",
  },
];

/** How a command's work is to be run. */
export interface Sharding {
  /** `local` or `slurm`. */
  executor: (typeof EXECUTORS)[number];
  /** Shards of the sharded units. */
  shards: number;
  /** The parsed flags, for Slurm's options. */
  args: ParsedArgs;
}

/** The executor the flags ask for; `undefined` when neither `--executor` nor `--shards` is given. */
export function shardingOf(a: ParsedArgs): Sharding | undefined {
  const executor = choice(a, "executor", [...EXECUTORS]);
  const shards = num(a, "shards", { int: true, min: 1, max: 100000 });
  if (executor === undefined && shards === undefined) return undefined;
  return { executor: executor ?? "local", shards: shards ?? 1, args: a };
}

/** The `deno run` permissions of a job: the model task's, writing only where the graph writes. */
export function jobPermissions(g: Graph): string[] {
  return MODEL_TASK.split(" ").map((p) =>
    p.startsWith("--allow-write=") ? `--allow-write=${g.writes.join(",")}` : p
  );
}

/** Slurm's options from the flags. */
export function slurmOptions(a: ParsedArgs, g: Graph): SlurmOptions {
  const main = new URL("./main.ts", import.meta.url);
  const resources: Record<string, Partial<Resources>> = {};
  for (const spec of (str(a, "resources") ?? "").split(";").filter((x) => x.trim())) {
    const [k, r] = parseResources(spec);
    resources[k] = { ...resources[k], ...r };
  }
  return {
    deno: str(a, "deno") ?? Deno.execPath(),
    main: main.protocol === "file:" ? fileURLToPath(main) : main.href,
    cwd: Deno.cwd(),
    permissions: jobPermissions(g),
    denoDir: str(a, "deno-dir"),
    partition: str(a, "partition"),
    account: str(a, "account"),
    qos: str(a, "qos"),
    extra: (str(a, "sbatch") ?? "").split(/\s+/).filter(Boolean),
    resources,
  };
}

/**
 * Runs a graph's units here (all not yet finished, or `o.only`), says which failed and which
 * were not run because of it, and gives the exit code.
 */
export async function runHere(
  g: Graph,
  kinds: UnitKinds,
  o: Omit<LocalOptions, "log"> = {},
): Promise<{ code: number; summary: LocalSummary }> {
  const summary = await runLocal(g, kinds, { ...o, log: makeProgress() });
  for (const [u, e] of summary.failed) console.error(`unit ${u} failed: ${e}`);
  if (summary.blocked.length) {
    console.error(`not run (they need a failed unit): ${summary.blocked.join(", ")}`);
  }
  return { code: summary.failed.length ? EXIT.error : EXIT.ok, summary };
}

/**
 * Runs a graph with the executor asked for: here (every unit not yet finished, in order), or by
 * submitting its units to Slurm. Returns the exit code.
 */
export async function execute(g: Graph, how: Sharding, kinds: UnitKinds): Promise<number> {
  if (how.executor === "local") return (await runHere(g, kinds)).code;
  if (how.executor !== "slurm") throw new UsageError(`unknown executor ${how.executor}`);
  const may = (p: string) => {
    try {
      return Deno.permissions.querySync({ name: "run", command: p }).state === "granted";
    } catch {
      return false;
    }
  };
  if (!SLURM_PROGRAMS.every(may)) {
    // this task may not run programs (least privilege): the submit task may
    console.error(
      `graph written to ${g.dir}; submit its units with: deno task submit ${g.dir}` +
        (how.args.values.partition ? " (repeat the Slurm flags there)" : ""),
    );
    return EXIT.ok;
  }
  const s = await submit(g, kinds, slurmOptions(how.args, g));
  for (const x of s.submitted) {
    console.error(
      `submitted ${x.unit}: job ${x.job}${
        (g.units.find((u) => u.id === x.unit)?.shards ?? 1) > 1
          ? ` (shards ${arraySpec(x.shards)})`
          : ""
      }`,
    );
  }
  if (s.finished.length) console.error(`finished already: ${s.finished.join(", ")}`);
  if (s.queued.length) console.error(`still queued or running: ${s.queued.join(", ")}`);
  console.error(`scripts and logs in ${g.dir}; follow with: deno task status ${g.dir}`);
  return EXIT.ok;
}
