/**
 * Run folders: everything one training run produces lives in `runs/<name>/`, written so that a
 * crash at any moment leaves the folder usable (each file is replaced atomically; a checkpoint
 * folder appears only once complete) and `--resume` can continue from the last checkpoint.
 *
 * ```
 * runs/<name>/
 *   config.json      resolved options (what --resume reuses)
 *   split.csv        every image's role (train / val / flow / test / unused)
 *   norm.json        per-channel mean and std of the training crops
 *   metrics.jsonl    one JSON line per epoch
 *   training.svg     loss and accuracy curves
 *   checkpoints/epoch-0007/   model.json+bin, optim.json+bin, state.json
 *   model/           the trained ENet (model.json + model.bin, tfjs weights format)
 * ```
 *
 * @module
 */

import { join, resolve } from "node:path";
import { CgvsniError } from "../core/errors.ts";
import { atomicWrite, exists, writeError } from "../core/files.ts";

/** The folder of run folders unless told another (`--runs`). */
export const DEFAULT_RUNS = "runs";

/** Run names: letters, digits, `.`, `_`, `-`; no path separators. */
export function checkRunName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
    throw new CgvsniError(
      `bad run name "${name}": use letters, digits, '.', '_' or '-' (at most 100)`,
    );
  }
  return name;
}

/** Absolute path of a run folder. */
export function runPath(runsDir: string, name: string): string {
  return resolve(runsDir, checkRunName(name));
}

/** Makes a folder (and parents), with a clear error if it cannot. */
export async function ensureDir(path: string): Promise<void> {
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (e) {
    throw writeError(path, e);
  }
}

/** The checkpoint folder name for an epoch. */
export function checkpointName(epoch: number): string {
  return `epoch-${String(epoch).padStart(4, "0")}`;
}

/** Completed checkpoints of a run, oldest first. */
export async function listCheckpoints(run: string): Promise<{ epoch: number; dir: string }[]> {
  const dir = join(run, "checkpoints");
  const out: { epoch: number; dir: string }[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = /^epoch-(\d{4,})$/.exec(e.name);
      if (e.isDirectory && m && await exists(join(dir, e.name, "state.json"))) {
        out.push({ epoch: Number(m[1]), dir: join(dir, e.name) });
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out.sort((a, b) => a.epoch - b.epoch);
}

/**
 * Writes a checkpoint: `fill(tmpDir)` writes its files into a hidden temporary folder, which is
 * then renamed to `checkpoints/epoch-NNNN` (so a checkpoint is either complete or absent).
 * Older checkpoints beyond the newest `keep` are removed afterwards.
 */
export async function writeCheckpoint(
  run: string,
  epoch: number,
  fill: (dir: string) => Promise<void>,
  keep = 2,
): Promise<string> {
  const root = join(run, "checkpoints");
  const final = join(root, checkpointName(epoch));
  const tmp = join(root, `.${checkpointName(epoch)}.tmp-${Deno.pid}`);
  await ensureDir(root);
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  try {
    await Deno.mkdir(tmp);
    await fill(tmp);
    await Deno.remove(final, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, final);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e instanceof CgvsniError ? e : writeError(final, e);
  }
  const all = await listCheckpoints(run);
  for (const c of all.slice(0, Math.max(0, all.length - Math.max(1, keep)))) {
    await Deno.remove(c.dir, { recursive: true }).catch(() => {});
  }
  return final;
}

/**
 * Removes what an interrupted writer left behind: hidden temporary files (`.name.tmp-…`) in the
 * run folder and its checkpoints, and unfinished checkpoint folders. Called when resuming.
 */
export async function removeStale(run: string): Promise<void> {
  for (const dir of [run, join(run, "checkpoints")]) {
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.name.startsWith(".") && /\.tmp-\d+/.test(e.name)) {
          await Deno.remove(join(dir, e.name), { recursive: true });
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
}

/**
 * Reads `metrics.jsonl` (ignoring a torn last line).
 *
 * @example A run's metrics, one object per epoch
 * ```ts
 * import { readMetrics } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/metrics.jsonl`, '{"epoch":1,"loss":0.7}\n{"epoch":2,"loss":0.5}\n');
 * console.log((await readMetrics(dir)).map((m) => m.loss)); // [0.7, 0.5]
 * ```
 */
export async function readMetrics<T = Record<string, number>>(run: string): Promise<T[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(run, "metrics.jsonl"));
  } catch {
    return [];
  }
  const out: T[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      break;
    }
  }
  return out;
}

/** Rewrites `metrics.jsonl` with just `rows` (used when resuming from an earlier epoch). */
export async function writeMetrics(run: string, rows: unknown[]): Promise<void> {
  await atomicWrite(join(run, "metrics.jsonl"), rows.map((r) => JSON.stringify(r) + "\n").join(""));
}
