/**
 * Work as a graph of units. A unit is one step of an experiment (train a map, fit a one-class
 * model, score a shard of images, merge) with the units it needs; a sharded unit is `shards`
 * independent pieces of work. The graph is written once to `<dir>/graph.json`, and each finished
 * or failed piece leaves a marker under `<dir>/units/<id>/`, so that any executor (the local one,
 * Slurm's jobs on other nodes) knows what is done from the folder alone:
 *
 * ```
 * <dir>/graph.json                               the units, their parameters and dependencies
 * <dir>/units/<id>/shard-0002-of-0004.done       JSON: the unit's fingerprint, the checksum of
 *                                                what it was made from, host, seconds, when
 * <dir>/units/<id>/shard-0003-of-0004.failed     JSON: the error, host, when
 * <dir>/units/<id>/shard-0001-of-0004.redo       a piece that must be made again, not reused
 * ```
 *
 * A done marker counts only for the unit it was written for: when a unit's kind, parameters or
 * shards change (the same experiment asked again with other settings), its fingerprint changes
 * and it runs again.
 *
 * @module
 */

import { join } from "node:path";
import { CgvsniError, oneLine, UsageError } from "../core/errors.ts";
import { readJsonIfExists, writeJson } from "../core/files.ts";
import { allShards, type Shard, shardName } from "./shard.ts";

/** What a unit asks of a scheduler, per shard. */
export interface Resources {
  /** CPU cores. */
  cpus: number;
  /** Memory in MiB. */
  memMB: number;
  /** Wall-time limit in minutes. */
  minutes: number;
}

/** One unit of work. */
export interface Unit {
  /** Name, unique in its graph: letters, digits, `.`, `_`, `-`. */
  id: string;
  /** What it does: a key of the executor's kinds (`map`, `detect`, ...). */
  kind: string;
  /** Units that must finish first. */
  after: string[];
  /** Independent pieces (default 1). */
  shards?: number;
  /** The kind's parameters (plain JSON). */
  params: unknown;
}

/** A graph of units, as written to `graph.json`. */
export interface Graph {
  /** Format version. */
  version: 1;
  /** What it is ("experiment e1"), for messages and job names. */
  name: string;
  /** Its folder (absolute): markers, logs and scripts live here. */
  dir: string;
  /** Folders (absolute) its units write into: jobs may write there and nowhere else. */
  writes: string[];
  /** The folder relative paths in its parameters are relative to (where it was written). */
  cwd?: string;
  /** The units, dependencies before dependents. */
  units: Unit[];
}

/** Which pieces of a unit finished and which failed. */
export interface UnitState {
  /** Shard indices with a done marker. */
  done: number[];
  /** Failed shard indices and their error. */
  failed: Map<number, string>;
  /** Of the done ones, the checksum of what each was made from, when its marker records one. */
  inputs: Map<number, string>;
}

/** The shards of a unit. */
export function shardsOf(u: Unit): Shard[] {
  return allShards(u.shards ?? 1);
}

/**
 * Checks ids, dependencies and cycles; returns the units in an order where every unit comes
 * after the units it needs (stable: the given order where it allows).
 *
 * @example
 * ```ts
 * import { orderUnits } from "./mod.ts";
 * const u = (id: string, after: string[] = []) => ({ id, kind: "k", after, params: {} });
 * console.log(orderUnits([u("merge", ["a", "b"]), u("a"), u("b", ["a"])]).map((x) => x.id)); // ["a", "b", "merge"]
 * ```
 */
export function orderUnits(units: readonly Unit[]): Unit[] {
  const byId = new Map<string, Unit>();
  for (const u of units) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/.test(u.id)) {
      throw new UsageError(`bad unit id "${u.id}": letters, digits, '.', '_', '-'`);
    }
    if (byId.has(u.id)) throw new UsageError(`unit ${u.id} is listed twice`);
    if (u.shards !== undefined && !(Number.isInteger(u.shards) && u.shards >= 1)) {
      throw new UsageError(`unit ${u.id}: shards must be a positive integer`);
    }
    byId.set(u.id, u);
  }
  for (const u of units) {
    for (const d of u.after) {
      if (!byId.has(d)) throw new UsageError(`unit ${u.id} needs ${d}, which is not in the graph`);
    }
  }
  const out: Unit[] = [], state = new Map<string, "visiting" | "done">();
  const visit = (u: Unit, path: string[]) => {
    if (state.get(u.id) === "done") return;
    if (state.get(u.id) === "visiting") {
      throw new UsageError(`the units form a cycle: ${[...path, u.id].join(" -> ")}`);
    }
    state.set(u.id, "visiting");
    for (const d of u.after) visit(byId.get(d)!, [...path, u.id]);
    state.set(u.id, "done");
    out.push(u);
  };
  for (const u of units) visit(u, []);
  return out;
}

/**
 * Writes `<dir>/graph.json` (in dependency order). A graph written earlier is replaced: what its
 * finished units did still counts where a unit is unchanged (see the module documentation).
 */
export async function writeGraph(g: Graph): Promise<Graph> {
  const graph = { ...g, cwd: g.cwd ?? Deno.cwd(), units: orderUnits(g.units) };
  await Deno.mkdir(g.dir, { recursive: true }).catch((e) => {
    throw new CgvsniError(`cannot make ${g.dir}: ${oneLine(e)}`);
  });
  await writeJson(join(g.dir, "graph.json"), graph);
  return graph;
}

/**
 * A unit's fingerprint: a hash of its kind, shards and parameters.
 *
 * @example
 * ```ts
 * import { fingerprint } from "./graph.ts";
 * const u = { id: "a", kind: "k", after: [], params: { x: 1 } };
 * console.log(fingerprint(u) === fingerprint({ ...u, params: { x: 2 } })); // false
 * ```
 */
export function fingerprint(u: Unit): string {
  const text = JSON.stringify([u.kind, u.shards ?? 1, u.params]);
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x5bd1e995) >>> 0;
    b = (b ^ (b >>> 15)) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

/** Reads `<dir>/graph.json`. */
export async function readGraph(dir: string): Promise<Graph> {
  const g = await readJsonIfExists<Graph>(join(dir, "graph.json"));
  if (!g || g.version !== 1 || !Array.isArray(g.units)) {
    throw new CgvsniError(`${dir}: no graph.json (not a folder of units)`);
  }
  return g;
}

/** The unit named `id`, or an error listing the units. */
export function unitOf(g: Graph, id: string): Unit {
  const u = g.units.find((x) => x.id === id);
  if (!u) {
    throw new UsageError(
      `no unit ${id} in ${g.dir} (units: ${g.units.map((x) => x.id).join(", ")})`,
    );
  }
  return u;
}

function marker(dir: string, u: Unit, s: Shard, what: "done" | "failed" | "redo"): string {
  return join(dir, "units", u.id, `${shardName(s)}.${what}`);
}

/** This machine's name, without asking for more than read permission ("" if unknown). */
function hostName(): string {
  try {
    return Deno.readTextFileSync("/etc/hostname").trim();
  } catch {
    return "";
  }
}

/**
 * Records that a piece finished (and clears an earlier failure); `inputs` is the checksum of what
 * it was made from (its dependencies' outputs, lib/cluster/local.ts).
 */
export async function markDone(
  dir: string,
  u: Unit,
  s: Shard,
  seconds: number,
  inputs?: string,
): Promise<void> {
  await Deno.mkdir(join(dir, "units", u.id), { recursive: true });
  await writeJson(marker(dir, u, s, "done"), {
    unit: fingerprint(u),
    ...(inputs !== undefined ? { inputs } : {}),
    host: hostName(),
    seconds: +seconds.toFixed(3),
    finished: new Date().toISOString(),
  });
  await Deno.remove(marker(dir, u, s, "failed")).catch(() => {});
  await Deno.remove(marker(dir, u, s, "redo")).catch(() => {});
}

/** A piece's done marker as written, whatever unit it was written for (undefined: none). */
export async function lastDone(
  dir: string,
  u: Unit,
  s: Shard,
): Promise<{ unit?: string; inputs?: string } | undefined> {
  return await readJsonIfExists(marker(dir, u, s, "done"));
}

/** Why a piece must be made again rather than reused, until it is done (`inputs`, `params`). */
export type RedoReason = "inputs" | "params";

/** Records that a piece must be made again (kept through failures until it is done). */
export async function markRedo(dir: string, u: Unit, s: Shard, why: RedoReason): Promise<void> {
  await Deno.mkdir(join(dir, "units", u.id), { recursive: true });
  await writeJson(marker(dir, u, s, "redo"), { why });
}

/** Why a piece is to be made again, if a run of it that did not finish said so. */
export async function redoOf(dir: string, u: Unit, s: Shard): Promise<RedoReason | undefined> {
  return (await readJsonIfExists<{ why: RedoReason }>(marker(dir, u, s, "redo")))?.why;
}

/** Records that a piece failed, and why. */
export async function markFailed(dir: string, u: Unit, s: Shard, error: string): Promise<void> {
  await Deno.mkdir(join(dir, "units", u.id), { recursive: true });
  await writeJson(marker(dir, u, s, "failed"), {
    host: hostName(),
    error,
    finished: new Date().toISOString(),
  });
}

/** Removes a piece's markers (before it runs again). */
export async function clearMarks(dir: string, u: Unit, s: Shard): Promise<void> {
  for (const w of ["done", "failed"] as const) {
    await Deno.remove(marker(dir, u, s, w)).catch(() => {});
  }
}

/** What the markers say of a unit. */
export async function unitState(dir: string, u: Unit): Promise<UnitState> {
  const done: number[] = [], failed = new Map<number, string>();
  const inputs = new Map<number, string>();
  for (const s of shardsOf(u)) {
    const m = await readJsonIfExists<{ unit?: string; inputs?: string }>(marker(dir, u, s, "done"));
    if (m?.unit === fingerprint(u)) {
      done.push(s.index);
      if (m.inputs !== undefined) inputs.set(s.index, m.inputs);
    } else {
      const f = await readJsonIfExists<{ error: string }>(marker(dir, u, s, "failed"));
      if (f) failed.set(s.index, f.error);
    }
  }
  return { done, failed, inputs };
}

/** Seconds each finished piece of a unit took, in shard order (missing ones left out). */
export async function unitSeconds(dir: string, u: Unit): Promise<number[]> {
  const out: number[] = [];
  for (const s of shardsOf(u)) {
    const m = await readJsonIfExists<{ seconds: number }>(marker(dir, u, s, "done"));
    if (m) out.push(m.seconds);
  }
  return out;
}

/** Whether every piece of a unit finished. */
export async function isDone(dir: string, u: Unit): Promise<boolean> {
  return (await unitState(dir, u)).done.length === (u.shards ?? 1);
}
