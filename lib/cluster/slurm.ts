/**
 * The Slurm executor: a graph's units become batch jobs. Each unit gets an sbatch script in
 * `<dir>/slurm/` (a job array when it has shards) that runs `cgvsni run-unit` with the narrow
 * permissions of the local task; dependencies become `--dependency=afterok`; logs go to
 * `<dir>/logs/`. Submitting again submits only what has neither finished nor is still queued,
 * and only the shards that are missing. Training units are requeued when they stop on SIGTERM
 * (a time limit or a preemption) with a checkpoint: the job script sees the exit status
 * {@link PREEMPTED_EXIT} and calls `scontrol requeue`.
 *
 * ```
 * <dir>/slurm/<id>.sbatch      the job script of a unit
 * <dir>/slurm/jobs.jsonl       one line per submission: unit, job id, shards, when
 * <dir>/logs/<id>-<job>_<shard>.out   (<id>-<job>.out for a unit without shards)
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { CgvsniError, PREEMPTED_EXIT, UsageError } from "../core/errors.ts";
import { appendLine, atomicWrite } from "../core/files.ts";
import {
  fingerprint,
  type Graph,
  orderUnits,
  type Resources,
  type Unit,
  unitState,
} from "./graph.ts";
import { finishedShards, kindOf, type UnitKinds } from "./local.ts";

/** Runs a program: what the executor needs of the system (a fake in tests). */
export type Exec = (
  cmd: string,
  args: string[],
) => Promise<{ code: number; stdout: string; stderr: string }>;

/** Runs a program with `Deno.Command` (needs `--allow-run` for it). */
export const systemExec: Exec = async (
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> => {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new CgvsniError(`${cmd} not found: is this a Slurm login node? (PATH)`);
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      throw new CgvsniError(
        `running ${cmd} needs --allow-run=${SLURM_PROGRAMS.join(",")} (deno task submit does)`,
      );
    }
    throw e;
  }
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
};

/** The Slurm programs the executor runs. */
export const SLURM_PROGRAMS = ["sbatch", "squeue", "scontrol", "sacct"] as const;

/** How jobs are written and submitted. */
export interface SlurmOptions {
  /** The `deno` executable on the nodes. */
  deno: string;
  /** `cli/main.ts`: a path or URL the nodes can read. */
  main: string;
  /** The folder jobs start in when the graph names none (where `deno.json` is). */
  cwd: string;
  /** `deno run` permission flags of the jobs (the local task's, writing only where the graph does). */
  permissions: string[];
  /** `DENO_DIR` of the jobs: a shared cache populated before submitting. */
  denoDir?: string;
  /** `--partition`. */
  partition?: string;
  /** `--account`. */
  account?: string;
  /** `--qos`. */
  qos?: string;
  /** More sbatch arguments, for every job. */
  extra?: string[];
  /** Per-kind resources instead of the kinds' own. */
  resources?: Record<string, Partial<Resources>>;
  /** Seconds before the time limit at which a training job gets SIGTERM (default 120). */
  grace?: number;
}

/** Slurm's `--time` for a number of minutes: `D-HH:MM:SS`. */
export function slurmTime(minutes: number): string {
  const s = Math.max(60, Math.round(minutes * 60));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), sec = s % 60;
  const p = (x: number) => String(x).padStart(2, "0");
  return `${d}-${p(h)}:${p(m)}:${p(sec)}`;
}

/** Single-quotes a word for bash. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** The resources a unit's jobs ask for. */
export function resourcesOf(kinds: UnitKinds, u: Unit, o: SlurmOptions): Resources {
  return { ...kindOf(kinds, u).resources, ...(o.resources?.[u.kind] ?? {}) };
}

/**
 * The sbatch script of a unit: its resources, log files, the array of its shards, and the
 * command; training units also forward SIGTERM to the command and requeue on
 * {@link PREEMPTED_EXIT}.
 *
 * @example
 * ```ts
 * import { sbatchScript } from "./mod.ts";
 * const kinds = { detect: { resources: { cpus: 2, memMB: 4096, minutes: 60 }, run: () => Promise.resolve() } };
 * const g = { version: 1 as const, name: "d", dir: "/scratch/runs/d", writes: [], units: [] };
 * const s = sbatchScript(g, { id: "detect", kind: "detect", after: [], shards: 4, params: {} }, kinds, {
 *   deno: "/usr/bin/deno", main: "/opt/cgvsni/cli/main.ts", cwd: "/opt/cgvsni", permissions: ["--allow-read"],
 * });
 * console.log(s.includes("#SBATCH --array=1-4")); // true
 * ```
 */
export function sbatchScript(g: Graph, u: Unit, kinds: UnitKinds, o: SlurmOptions): string {
  const kind = kindOf(kinds, u), r = resourcesOf(kinds, u, o);
  const n = u.shards ?? 1;
  const sb = (s: string) => `#SBATCH ${s}`;
  const q = shellQuote;
  const lines = [
    "#!/bin/bash",
    `# cgvsni unit ${u.id} (${u.kind}) of ${g.name}; written by cgvsni, submitted by \`cgvsni submit\``,
    sb(`--job-name=${q(`cgvsni-${g.name}-${u.id}`.replace(/[^A-Za-z0-9._-]/g, "_"))}`),
    sb(`--output=${q(join(g.dir, "logs", n > 1 ? `${u.id}-%A_%a.out` : `${u.id}-%j.out`))}`),
    sb(`--cpus-per-task=${r.cpus}`),
    sb(`--mem=${Math.ceil(r.memMB)}M`),
    sb(`--time=${slurmTime(r.minutes)}`),
    sb("--kill-on-invalid-dep=yes"),
    ...(kind.preemptible
      ? [sb("--requeue"), sb(`--signal=B:TERM@${o.grace ?? 120}`), sb("--open-mode=append")]
      : [
        sb("--no-requeue"),
      ]),
    ...(o.partition ? [sb(`--partition=${q(o.partition)}`)] : []),
    ...(o.account ? [sb(`--account=${q(o.account)}`)] : []),
    ...(o.qos ? [sb(`--qos=${q(o.qos)}`)] : []),
    ...(o.extra ?? []).map((x) => sb(q(x))),
    "set -u",
    `cd ${q(g.cwd ?? o.cwd)} || exit 1`,
    ...(o.denoDir ? [`export DENO_DIR=${q(o.denoDir)}`] : []),
    "export NO_COLOR=1",
    // the array index is the shard; a unit without shards is shard 1 of 1
    n > 1 ? `shard="$SLURM_ARRAY_TASK_ID/${n}"` : 'shard="1/1"',
    [
      q(o.deno),
      "run",
      ...o.permissions.map(q),
      q(o.main),
      "run-unit",
      q(g.dir),
      q(u.id),
      "--shard",
      '"$shard"',
      // the unit as it was submitted: a graph written again since refuses to run it
      `--expect=${fingerprint(u)}`,
      "--threads",
      '"${SLURM_CPUS_PER_TASK:-1}"',
    ].join(" ") + " &",
    "child=$!",
    // SIGTERM (time limit, preemption, scancel) goes to the command, which checkpoints and exits
    `trap 'kill -TERM "$child" 2>/dev/null' TERM`,
    'wait "$child"; rc=$?',
    'while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done',
    ...(kind.preemptible
      ? [
        `if [ "$rc" -eq ${PREEMPTED_EXIT} ]; then`,
        '  echo "cgvsni: checkpoint written; requeueing job $SLURM_JOB_ID"',
        '  scontrol requeue "$SLURM_JOB_ID" && exit 0',
        "fi",
      ]
      : []),
    'exit "$rc"',
    "",
  ];
  return lines.join("\n");
}

/** One submission, as recorded in `slurm/jobs.jsonl`. */
export interface Submission {
  /** The unit. */
  unit: string;
  /** Slurm's job id (of the array, for a sharded unit). */
  job: string;
  /** Shards submitted (all of them, or those missing). */
  shards: number[];
  /** When. */
  submitted: string;
}

/** What {@link submit} did. */
export interface SubmitSummary {
  /** New jobs. */
  submitted: Submission[];
  /** Units already finished: nothing submitted. */
  finished: string[];
  /** Units still queued or running from an earlier submission: left alone. */
  queued: string[];
}

/** The submissions recorded for a graph, oldest first. */
export async function readSubmissions(dir: string): Promise<Submission[]> {
  try {
    const text = await Deno.readTextFile(join(dir, "slurm", "jobs.jsonl"));
    return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** A job's state as squeue reports it, by job id (`123` or `123_4` for an array's task). */
export async function queueStates(exec: Exec, jobs: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (jobs.length === 0) return out;
  const r = await exec("squeue", [
    "-h",
    "-r",
    "-t",
    "all",
    "-o",
    "%i|%T|%A|%K",
    "-j",
    jobs.join(","),
  ]);
  // a job the controller has forgotten makes squeue fail: ask for the jobs one by one then; any
  // other failure (a busy or unreachable controller) must not look like "every job is gone"
  if (r.code !== 0) {
    if (!/invalid job id/i.test(r.stderr)) {
      throw new CgvsniError(`squeue failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
    }
    if (jobs.length === 1) return out;
    for (const j of jobs) for (const [k, v] of await queueStates(exec, [j])) out.set(k, v);
    return out;
  }
  for (const line of r.stdout.split("\n")) {
    const [id, state, jobId, task] = line.trim().split("|");
    if (!id) continue;
    out.set(id, state);
    if (jobId) out.set(jobId, state);
    if (task && task !== "N/A" && /^\d+$/.test(task)) out.set(`${id.split("_")[0]}_${task}`, state);
  }
  return out;
}

/** Job states that mean "will still run". */
const LIVE = new Set([
  "PENDING",
  "RUNNING",
  "CONFIGURING",
  "COMPLETING",
  "REQUEUED",
  "REQUEUE_HOLD",
  "REQUEUE_FED",
  "RESIZING",
  "SUSPENDED",
  "STAGE_OUT",
  "SIGNALING",
]);

/**
 * The live jobs of each unit's shards: for each unit, shard index → job id (`123_4` or `123`),
 * from the recorded submissions and squeue.
 */
export async function liveShards(
  g: Graph,
  exec: Exec,
): Promise<{ live: Map<string, Map<number, string>>; states: Map<string, string> }> {
  const subs = await readSubmissions(g.dir);
  const states = await queueStates(exec, [...new Set(subs.map((s) => s.job))]);
  const live = new Map<string, Map<number, string>>();
  for (const s of subs) {
    const u = g.units.find((x) => x.id === s.unit);
    if (!u) continue;
    const sharded = (u.shards ?? 1) > 1;
    for (const i of s.shards) {
      const id = sharded ? `${s.job}_${i}` : s.job;
      const st = states.get(id) ?? (sharded ? undefined : states.get(`${s.job}_${i}`));
      if (st && LIVE.has(st)) {
        if (!live.has(u.id)) live.set(u.id, new Map());
        live.get(u.id)!.set(i, id);
      }
    }
  }
  return { live, states };
}

/** Compact array ranges: [1,2,3,5] → `1-3,5`. */
export function arraySpec(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b), out: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

/**
 * Writes every unit's script and submits what is needed: units that finished are skipped, units
 * still queued or running are left alone (their jobs become the dependencies of what is
 * submitted after them), and of the rest only the shards without a done marker are submitted.
 */
export async function submit(
  g: Graph,
  kinds: UnitKinds,
  o: SlurmOptions,
  exec: Exec = systemExec,
): Promise<SubmitSummary> {
  const units = orderUnits(g.units);
  for (const u of units) kindOf(kinds, u);
  await Deno.mkdir(join(g.dir, "slurm"), { recursive: true });
  await Deno.mkdir(join(g.dir, "logs"), { recursive: true });
  const unlock = await lockSubmit(g.dir);
  try {
    return await submitUnits(g, kinds, units, o, exec);
  } finally {
    await unlock();
  }
}

/** A submit on a folder is under way when this file exists (and is younger than an hour). */
const LOCK = "submit.lock";

/**
 * Takes the folder's submit lock, or says who holds it: two submits at once would both submit
 * the same missing units. A lock older than an hour is taken to be left by a crash.
 */
async function lockSubmit(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, "slurm", LOCK);
  const token = `${Deno.pid} ${crypto.randomUUID()} ${new Date().toISOString()}`;
  const take = async () => {
    const f = await Deno.open(file, { write: true, createNew: true });
    await f.write(new TextEncoder().encode(token + "\n"));
    f.close();
  };
  try {
    await take();
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    const age = Date.now() - ((await Deno.stat(file)).mtime?.getTime() ?? 0);
    const held = () =>
      new CgvsniError(
        `another submit on ${dir} is under way (${file}); wait for it, or remove that file if it crashed`,
      );
    if (age < 3600_000) throw held();
    // a crash's: moved aside (one rename wins when two submits find it), then taken
    try {
      await Deno.rename(file, `${file}.stale-${crypto.randomUUID()}`);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    try {
      await take();
    } catch (err) {
      if (err instanceof Deno.errors.AlreadyExists) throw held();
      throw err;
    }
  }
  // released only while it is still this submit's
  return async () => {
    const now = await Deno.readTextFile(file).catch(() => "");
    if (now.trim() === token) await Deno.remove(file).catch(() => {});
  };
}

/** {@link submit}'s work, under the lock. */
async function submitUnits(
  g: Graph,
  kinds: UnitKinds,
  units: Unit[],
  o: SlurmOptions,
  exec: Exec,
): Promise<SubmitSummary> {
  const { live } = await liveShards(g, exec);
  const jobsOf = new Map<string, string[]>(); // unit → job ids its dependents wait for
  const out: SubmitSummary = { submitted: [], finished: [], queued: [] };
  const submittedNow = new Set<string>();
  for (const u of units) {
    const script = join(g.dir, "slurm", `${u.id}.sbatch`);
    await atomicWrite(script, sbatchScript(g, u, kinds, o));
    // what needs a unit sent again goes again after it: its job then sees whether what it was
    // made from changed, and runs only if it did (or reuses its pieces at once)
    const upstream = u.after.filter((d) => submittedNow.has(d));
    const done = upstream.length ? [] : await finishedShards(g, u, kinds);
    const running = live.get(u.id) ?? new Map<number, string>();
    if (upstream.length && running.size) {
      throw new CgvsniError(
        `unit ${u.id} still has jobs queued or running (${
          [...new Set(running.values())].join(", ")
        }) from an earlier submit, and ${upstream.join(", ")}, which it needs, is sent again: ` +
          "they would not wait for it; cancel them (scancel) and submit again",
      );
    }
    const missing = Array.from({ length: u.shards ?? 1 }, (_, i) => i + 1)
      .filter((i) => !done.includes(i) && !running.has(i));
    // the live tasks themselves (123_4), not their array: a failed task of it would never let
    // afterok on the whole array hold
    const waits = [...new Set(running.values())];
    if (missing.length === 0) {
      if (waits.length) out.queued.push(u.id);
      else out.finished.push(u.id);
      jobsOf.set(u.id, waits);
      continue;
    }
    const deps = [...new Set(u.after.flatMap((d) => jobsOf.get(d) ?? []))];
    const args = [
      "--parsable",
      ...((u.shards ?? 1) > 1 ? [`--array=${arraySpec(missing)}`] : []),
      ...(deps.length ? [`--dependency=afterok:${deps.join(":")}`] : []),
      script,
    ];
    const r = await exec("sbatch", args);
    const job = r.stdout.trim().split(";")[0];
    if (r.code !== 0 || !/^\d+$/.test(job)) {
      throw new CgvsniError(
        `sbatch refused unit ${u.id} (${script}): ${(r.stderr || r.stdout).trim()}`,
      );
    }
    const rec: Submission = {
      unit: u.id,
      job,
      shards: missing,
      submitted: new Date().toISOString(),
    };
    await appendLine(join(g.dir, "slurm", "jobs.jsonl"), JSON.stringify(rec));
    out.submitted.push(rec);
    submittedNow.add(u.id);
    jobsOf.set(u.id, [...waits, job]);
  }
  return out;
}

/** One unit's line in {@link clusterStatus}. */
export interface UnitStatus {
  /** The unit. */
  unit: string;
  /** Its kind. */
  kind: string;
  /** Shards in all. */
  shards: number;
  /** Finished shards. */
  finished: number;
  /** Shards with a failure marker, and the error. */
  failed: [number, string][];
  /** Shards whose job is pending. */
  queued: number;
  /** Shards whose job runs. */
  running: number;
  /** Shards whose last job ended without a result (killed, out of memory, time limit), and how. */
  lost: [number, string][];
}

/**
 * Where each unit stands: the markers in the folder say what finished and what failed; squeue
 * says what is queued and running, and how a job that left no marker ended.
 */
export async function clusterStatus(
  g: Graph,
  exec: Exec = systemExec,
  kinds?: UnitKinds,
): Promise<UnitStatus[]> {
  const subs = await readSubmissions(g.dir);
  const states = await queueStates(exec, [...new Set(subs.map((s) => s.job))]);
  const out: UnitStatus[] = [];
  for (const u of orderUnits(g.units)) {
    const n = u.shards ?? 1, st = await unitState(g.dir, u);
    // with the kinds, a piece whose outputs are gone is not finished (submit runs it again)
    const done = kinds?.[u.kind] ? await finishedShards(g, u, kinds) : st.done;
    const s: UnitStatus = {
      unit: u.id,
      kind: u.kind,
      shards: n,
      finished: done.length,
      failed: [...st.failed],
      queued: 0,
      running: 0,
      lost: [],
    };
    for (let i = 1; i <= n; i++) {
      if (done.includes(i) || st.failed.has(i)) continue;
      const last = subs.filter((x) => x.unit === u.id && x.shards.includes(i)).pop();
      const state = last ? states.get(n > 1 ? `${last.job}_${i}` : last.job) : undefined;
      if (state === "PENDING" || state === "REQUEUED" || state === "REQUEUE_HOLD") s.queued++;
      else if (state && LIVE.has(state)) s.running++;
      else if (st.done.includes(i)) {
        s.lost.push([i, "finished, but its outputs are gone or what it was made from changed"]);
      } else if (last) s.lost.push([i, state ?? "gone from the queue"]);
    }
    out.push(s);
  }
  return out;
}

/** Parses `KIND=cpus:4,mem:16G,time:8:00:00` (`--resources`). */
export function parseResources(spec: string): [string, Partial<Resources>] {
  const m = /^([A-Za-z0-9_-]+)=(.+)$/.exec(spec.trim());
  if (!m) {
    throw new UsageError(`resources must be KIND=cpus:N,mem:SIZE,time:H:MM:SS, got "${spec}"`);
  }
  const r: Partial<Resources> = {};
  for (const part of m[2].split(",")) {
    const [k, ...rest] = part.split(":");
    const v = rest.join(":");
    if (k === "cpus" && /^\d+$/.test(v) && +v > 0) r.cpus = +v;
    else if (k === "mem" && /^\d+(\.\d+)?[MGT]?$/i.test(v)) {
      const unit = v.slice(-1).toUpperCase();
      const x = parseFloat(v);
      r.memMB = unit === "G" ? x * 1024 : unit === "T" ? x * 1024 * 1024 : x;
    } else if (k === "time" && /^(\d+-)?\d+(:\d\d){0,2}$/.test(v)) {
      const [d, hms] = v.includes("-") ? v.split("-") : ["0", v];
      const p = hms.split(":").map(Number);
      const [h, mi, s] = p.length === 3 ? p : p.length === 2 ? [p[0], p[1], 0] : [0, p[0], 0];
      r.minutes = Number(d) * 1440 + h * 60 + mi + s / 60;
    } else {
      throw new UsageError(
        `resources: cannot read "${part}" in "${spec}" (cpus:N, mem:16G, time:H:MM:SS)`,
      );
    }
  }
  return [m[1], r];
}
