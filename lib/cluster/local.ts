/**
 * Running units: one piece ({@link runUnit}, what a Slurm job does) or the whole graph in this
 * process ({@link runLocal}, the default executor). Both leave the same markers, so a graph can be
 * started by one executor and finished by the other.
 *
 * @module
 */

import { isAbsolute, join } from "node:path";
import { CgvsniError, oneLine, Preempted } from "../core/errors.ts";
import { exists } from "../core/files.ts";
import { fileSha256, sha256Hex } from "../core/bundle.ts";
import { listenForStop } from "../runs/stop.ts";
import { makeProgress, type Progress } from "../core/progress.ts";
import {
  clearMarks,
  fingerprint,
  type Graph,
  lastDone,
  markDone,
  markFailed,
  markRedo,
  orderUnits,
  redoOf,
  type RedoReason,
  type Resources,
  shardsOf,
  type Unit,
  unitOf,
  unitState,
} from "./graph.ts";
import type { Shard } from "./shard.ts";

/** What a unit's code is given. */
export interface UnitContext {
  /** The graph it belongs to. */
  graph: Graph;
  /** The piece to do. */
  shard: Shard;
  /** Log sink. */
  log: Progress;
  /**
   * The piece finished before, and must be made again rather than reused: `inputs`, what it was
   * made from changed since (a map trained again); `params`, it was asked with other options.
   * Kept until the piece finishes, through failures.
   */
  redo?: RedoReason;
}

/** How to do one kind of unit, and what it asks of a scheduler. */
export interface UnitKind {
  /** Does one piece of a unit of this kind. */
  run(params: unknown, ctx: UnitContext): Promise<void>;
  /** Cores, memory and time per piece (Slurm's `--cpus-per-task`, `--mem`, `--time`). */
  resources: Resources;
  /** Trains: stops on SIGTERM with a checkpoint ({@link Preempted}), and is requeued. */
  preemptible?: boolean;
  /**
   * Files a finished piece leaves. When one is gone (a run folder deleted, a stale model set
   * aside), the piece counts as not finished whatever its marker says, and runs again. The units
   * after it record these files' checksums when they run, and run again when they change.
   */
  outputs?(params: unknown, shard: Shard): string[];
}

/** The kinds an executor knows, by name. */
export type UnitKinds = Readonly<Record<string, UnitKind>>;

/** The kind of a unit, or an error naming the kinds known. */
export function kindOf(kinds: UnitKinds, u: Unit): UnitKind {
  const k = kinds[u.kind];
  if (!k) {
    throw new CgvsniError(
      `unit ${u.id} is of kind ${u.kind}, which this version does not know (${
        Object.keys(kinds).join(", ")
      })`,
    );
  }
  return k;
}

/** A path of a graph's, absolute. */
function pathIn(g: Graph, f: string): string {
  return isAbsolute(f) ? f : join(g.cwd ?? Deno.cwd(), f);
}

/**
 * The checksum of what a unit is made from: the outputs its dependencies name (their contents,
 * or their absence), every piece of each. "" when they name none.
 */
export async function inputsOf(g: Graph, u: Unit, kinds: UnitKinds): Promise<string> {
  const parts: string[] = [];
  for (const id of [...u.after].sort()) {
    const d = unitOf(g, id), outputs = kindOf(kinds, d).outputs;
    if (!outputs) continue;
    for (const s of shardsOf(d)) {
      for (const f of outputs(d.params, s)) {
        parts.push(`${id}[${s.index}] ${f} ${(await fileSha256(pathIn(g, f))) ?? "absent"}`);
      }
    }
  }
  return parts.length ? await sha256Hex(new TextEncoder().encode(parts.join("\n"))) : "";
}

/**
 * The pieces of a unit that finished: those whose done marker is for the unit as it is now,
 * whose outputs (the kind's {@link UnitKind.outputs}) are all there, and which were made from
 * what its dependencies hold now ({@link inputsOf}; a marker that records nothing is trusted).
 */
export async function finishedShards(g: Graph, u: Unit, kinds: UnitKinds): Promise<number[]> {
  const st = await unitState(g.dir, u);
  const outputs = kindOf(kinds, u).outputs;
  const now = st.inputs.size ? await inputsOf(g, u, kinds) : "";
  const kept: number[] = [];
  for (const index of st.done) {
    const was = st.inputs.get(index);
    if (was !== undefined && was !== now) continue;
    const files = outputs?.(u.params, { index, count: u.shards ?? 1 }) ?? [];
    const here = await Promise.all(files.map((f) => exists(pathIn(g, f))));
    if (here.every(Boolean)) kept.push(index);
  }
  return kept;
}

/**
 * Runs one piece of a unit and records the outcome: a done marker, or a failed marker with the
 * error (which is thrown again). A piece stopped by SIGTERM ({@link Preempted}) leaves neither:
 * it is to be run again.
 */
export async function runUnit(
  g: Graph,
  id: string,
  shard: Shard,
  kinds: UnitKinds,
  log: Progress = makeProgress(),
): Promise<void> {
  const u = unitOf(g, id);
  const n = u.shards ?? 1;
  if (shard.count !== n || shard.index > n) {
    throw new CgvsniError(`unit ${id} has ${n} shard(s); got shard ${shard.index}/${shard.count}`);
  }
  const kind = kindOf(kinds, u);
  const inputs = await inputsOf(g, u, kinds);
  const prev = await lastDone(g.dir, u, shard), pending = await redoOf(g.dir, u, shard);
  const changed = prev?.inputs !== undefined && prev.inputs !== inputs;
  const redo: RedoReason | undefined = changed
    ? "inputs"
    : pending ?? (prev && prev.unit !== fingerprint(u) ? "params" : undefined);
  if (redo) await markRedo(g.dir, u, shard, redo);
  await clearMarks(g.dir, u, shard);
  const t0 = performance.now();
  // a training unit hears SIGTERM from its start: one that comes while data loads is not lost
  // (training stops at its first chance with a checkpoint) and does not end the process bare
  const stop = kind.preemptible ? listenForStop() : undefined;
  try {
    await kind.run(u.params, { graph: g, shard, log, redo });
  } catch (e) {
    if (!(e instanceof Preempted)) await markFailed(g.dir, u, shard, oneLine(e));
    throw e;
  } finally {
    stop?.();
  }
  await markDone(g.dir, u, shard, (performance.now() - t0) / 1000, inputs);
}

/** What {@link runLocal} did. */
export interface LocalSummary {
  /** Pieces run now, as `id` or `id[i/N]`. */
  ran: string[];
  /** Units found finished and left alone. */
  reused: string[];
  /** Units that failed now, with the error. */
  failed: [string, string][];
  /** Units not run because a unit they need failed. */
  blocked: string[];
}

/** Options of {@link runLocal}. */
export interface LocalOptions {
  /** Log sink. */
  log?: Progress;
  /** Only this unit (its pieces not yet done, or `shard` alone), whatever its dependencies say. */
  only?: string;
  /** With `only`: just this piece. */
  shard?: Shard;
  /** Run the pieces asked for even when they finished (a duplicate job never does). */
  force?: boolean;
}

/**
 * Runs a graph in this process: every unit in dependency order, each piece that has no done
 * marker (finished units are never run again). A failed unit is recorded and named; the units
 * that need it are skipped, the others still run.
 *
 * @example Two units, the second needing the first; a second call reruns nothing
 * ```ts
 * import { runLocal, writeGraph } from "./mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * const dir = await Deno.makeTempDir();
 * const seen: string[] = [];
 * const say = (p: unknown) => {
 *   seen.push(String(p));
 *   return Promise.resolve();
 * };
 * const kinds = { say: { resources: { cpus: 1, memMB: 100, minutes: 1 }, run: say } };
 * const g = await writeGraph({ version: 1, name: "demo", dir, writes: [dir], units: [
 *   { id: "b", kind: "say", after: ["a"], params: "b" }, { id: "a", kind: "say", after: [], params: "a" },
 * ] });
 * const log = makeProgress({ quiet: true });
 * await runLocal(g, kinds, { log });
 * console.log(seen, (await runLocal(g, kinds, { log })).reused); // ["a", "b"] ["a", "b"]
 * ```
 */
export async function runLocal(
  g: Graph,
  kinds: UnitKinds,
  o: LocalOptions = {},
): Promise<LocalSummary> {
  const log = o.log ?? makeProgress();
  const out: LocalSummary = { ran: [], reused: [], failed: [], blocked: [] };
  const units = o.only ? [unitOf(g, o.only)] : orderUnits(g.units);
  for (const u of units) kindOf(kinds, u); // every kind known before anything runs
  const bad = new Set<string>();
  for (const u of units) {
    if (!o.only && u.after.some((d) => bad.has(d))) {
      bad.add(u.id);
      out.blocked.push(u.id);
      log.log(`== ${u.id}: skipped (needs ${u.after.filter((d) => bad.has(d)).join(", ")})`);
      continue;
    }
    const done = await finishedShards(g, u, kinds);
    const todo = (o.shard ? [o.shard] : shardsOf(u))
      .filter((s) => o.force || !done.includes(s.index));
    if (todo.length === 0) {
      out.reused.push(u.id);
      continue;
    }
    for (const s of todo) {
      const name = (u.shards ?? 1) > 1 ? `${u.id}[${s.index}/${s.count}]` : u.id;
      log.log(`== ${name}: ${u.kind}`);
      try {
        await runUnit(g, u.id, s, kinds, log);
        out.ran.push(name);
      } catch (e) {
        if (e instanceof Preempted || !(e instanceof CgvsniError)) throw e;
        log.log(`== ${name} failed: ${oneLine(e)}`);
        out.failed.push([name, oneLine(e)]);
        bad.add(u.id);
      }
    }
  }
  return out;
}

/**
 * Runs a graph here (as {@link runLocal}) for a library call that wants its result or an error:
 * throws naming every failed unit (and those not run because of them); finished units are kept.
 *
 * @example A graph whose one unit fails
 * ```ts
 * import { runGraph } from "./local.ts";
 * import { CgvsniError } from "../core/errors.ts";
 * const dir = await Deno.makeTempDir();
 * const g = { version: 1 as const, name: "g", dir, writes: [dir], units: [{ id: "a", kind: "k", after: [], params: {} }] };
 * await runGraph(g, { k: { resources: { cpus: 1, memMB: 100, minutes: 1 }, run: () => { throw new CgvsniError("no"); } } })
 *   .catch((e) => console.log(e.message)); // g: unit a failed: no; fix the cause and run it again ...
 * ```
 */
export async function runGraph(
  g: Graph,
  kinds: UnitKinds,
  o: Omit<LocalOptions, "only" | "shard" | "force"> = {},
): Promise<LocalSummary> {
  const done = await runLocal(g, kinds, o);
  if (done.failed.length) {
    throw new CgvsniError(
      `${g.name}: ${done.failed.map(([u, e]) => `unit ${u} failed: ${e}`).join("; ")}${
        done.blocked.length ? ` (not run: ${done.blocked.join(", ")})` : ""
      }; fix the cause and run it again (finished units are kept)`,
    );
  }
  return done;
}
