/**
 * Starting a run folder, or reopening one: written once for every stage.
 *
 * - A new run writes `config.json` first (what `--resume` reuses). A folder that already holds
 *   a run is refused (saying how to resume it, where the stage can), unless that run never
 *   finished an epoch (it stopped on a bad image, say): such a start is cleared and begun again,
 *   so fixing the cause and rerunning just works.
 * - Resuming reads `config.json` back and checks it is the right kind of run: the saved
 *   configuration is the one source of truth, and a setting the stage lists (`given`) given
 *   again with another value is an error naming both.
 *
 * @module
 */

import { join } from "node:path";
import { CgvsniError, UsageError } from "../core/errors.ts";
import { exists, readJsonIfExists, writeJson } from "../core/files.ts";
import type { Progress } from "../core/progress.ts";
import { ensureDir, listCheckpoints, readMetrics } from "./folder.ts";

/** How {@link openRun} finds or makes a run. */
export interface OpenRunOptions<C> {
  /** The run folder. */
  dir: string;
  /** The `kind` field every config of this stage has (`map`, `oneclass`). */
  kind: string;
  /** What the run is, for messages ("map run"). */
  what: string;
  /** Continue the run in `dir` instead of starting one. */
  resume: boolean;
  /** Whether the stage can resume a run (default true); what a refusal suggests follows it. */
  resumable?: boolean;
  /** The configuration of a new run. */
  create(): C;
  /** Log sink, for the note when an unfinished start is cleared. */
  log?: Progress;
  /** A file whose presence means the run finished (its final model). */
  finished?: string;
  /**
   * On resume, the settings given again: `[path in the config, flag, value]`, e.g.
   * `["settings.nu", "nu", 0.1]`; an undefined value was not given.
   */
  given?: [path: string, flag: string, value: unknown][];
}

/** True when a run folder holds no completed epoch, checkpoint or final model. */
export async function neverTrained(dir: string, finished?: string): Promise<boolean> {
  return (await listCheckpoints(dir)).length === 0 && (await readMetrics(dir)).length === 0 &&
    !(finished && await exists(join(dir, finished)));
}

/**
 * The configuration of a run: read back when resuming, else made by `create()` and written to
 * `<dir>/config.json` (see the module documentation for what is refused).
 *
 * @example Start a run, or resume it
 * ```ts
 * import { openRun } from "./mod.ts";
 * const dir = `${await Deno.makeTempDir()}/run`;
 * const { config, resumed } = await openRun({ dir, kind: "demo", what: "demo run", resume: false, create: () => ({ kind: "demo", lr: 0.1 }) });
 * console.log(config, resumed); // { kind: "demo", lr: 0.1 } false
 * ```
 */
export async function openRun<C extends { kind: string }>(
  o: OpenRunOptions<C>,
): Promise<{ config: C; resumed: boolean }> {
  const path = join(o.dir, "config.json");
  if (o.resume) {
    const saved = await readJsonIfExists<C>(path);
    if (!saved || saved.kind !== o.kind) {
      throw new CgvsniError(`${o.dir}: no ${o.what} to resume (config.json missing)`);
    }
    for (const [path, flag, value] of o.given ?? []) {
      if (value === undefined) continue;
      const was = path.split(".").reduce<unknown>(
        (v, k) => (v as Record<string, unknown> | undefined)?.[k],
        saved,
      );
      if (JSON.stringify(was) !== JSON.stringify(value)) {
        throw new UsageError(
          `${o.dir}: --${flag} ${value} contradicts the run's config.json (${path}: ${
            JSON.stringify(was) ?? "unset"
          }); resume without it, or start another run with --name`,
        );
      }
    }
    return { config: saved, resumed: true };
  }
  if (await exists(path)) {
    if (!(await neverTrained(o.dir, o.finished))) {
      const instead = o.resumable === false
        ? "remove that folder to fit it again"
        : "pass --resume to continue it";
      throw new CgvsniError(`${o.dir} already holds a ${o.what}: ${instead}, or another --name`);
    }
    o.log?.log(`${o.dir}: an earlier start never finished an epoch; starting it again`);
    await Deno.remove(join(o.dir, "checkpoints"), { recursive: true }).catch(() => {});
  }
  const config = o.create();
  await ensureDir(o.dir);
  await writeJson(path, config);
  return { config, resumed: false };
}
