/**
 * The one training loop of the toolkit. Every trained stage (the image map, the flow, the Deep
 * SVDD MLP) is "an epoch function plus a model that can be saved": this loop owns everything
 * around it, written once:
 *
 * - resuming: the newest complete checkpoint is restored and `metrics.jsonl` cut back to it;
 * - the non-finite guard: a NaN or infinite loss or metric stops training with one message that
 *   names the last good checkpoint;
 * - `metrics.jsonl` (one line per epoch) and the SVG plot of the history;
 * - checkpoints (every `checkpointEvery` epochs, after the last, and when stopping early), the
 *   newest `keep` kept;
 * - `stopAfter` (time-boxed jobs and tests) and the ETA in the log;
 * - stopping on SIGTERM ({@link stopRequested}): an epoch function that can stop between batches
 *   returns where it stopped, the loop writes `checkpoints/interrupted/` (model, optimiser and
 *   that position) and throws {@link Preempted}; resuming restores it and the epoch goes on from
 *   the next batch, so that the final weights equal an uninterrupted run's. Between epochs, the
 *   loop checkpoints the epoch it finished and stops.
 *
 * @module
 */

import { join } from "node:path";
import { CgvsniError, NumericalError, Preempted } from "../core/errors.ts";
import { appendLine, atomicWrite, readJsonIfExists, writeError, writeJson } from "../core/files.ts";
import { formatDuration, type Progress } from "../core/progress.ts";
import {
  listCheckpoints,
  readMetrics,
  removeStale,
  writeCheckpoint,
  writeMetrics,
} from "./folder.ts";
import { listenForStop, stopRequested } from "./stop.ts";

/** What every line of `metrics.jsonl` has. */
export interface EpochLine {
  /** 1-based epoch. */
  epoch: number;
}

/** Stops training when `value` is NaN or infinite; `what` says where it happened. */
export type Guard = (value: number, what: string) => void;

/** Where an epoch stopped between batches, and what it had summed so far. */
export interface EpochPosition {
  /** The next batch to train (0-based). */
  batch: number;
  /** The epoch's running sums (plain JSON), handed back when it goes on. */
  carry: unknown;
}

/** What an epoch function learns of its start and of a stop request. */
export interface EpochAt {
  /** Set when the epoch goes on from a checkpoint written mid-epoch. */
  from?: EpochPosition;
  /** Whether to stop after the batch just trained (SIGTERM, see `stop.ts`). */
  stop(): boolean;
}

/** What an epoch function returns when it stopped between batches. */
export interface Interrupted {
  /** Where it stopped. */
  interrupted: EpochPosition;
}

/** The folder of the checkpoint written mid-epoch. */
export const INTERRUPTED = "interrupted";

/** Checkpoints kept, newest first, unless told another (`--keep-checkpoints`). */
export const DEFAULT_KEEP = 2;

/** What {@link trainLoop} needs from a stage. */
export interface LoopOptions<M extends EpochLine> {
  /** The run folder (holding `metrics.jsonl`, the plot and `checkpoints/`). */
  run: string;
  /** Last epoch to train. */
  epochs: number;
  /** Continue from the newest checkpoint. */
  resume: boolean;
  /** Log sink. */
  log: Progress;
  /** Restores the model and optimiser from a checkpoint folder. */
  restore(dir: string): Promise<void>;
  /**
   * Trains one epoch and returns its metrics; calls `guard` on values that must stay finite. An
   * epoch function that can stop between batches asks `at.stop()` after each one, returns
   * {@link Interrupted} when told to, and goes on from `at.from` when given.
   */
  epoch(epoch: number, guard: Guard, at: EpochAt): Promise<M | Interrupted>;
  /** Writes the model and optimiser into a checkpoint folder. */
  save(dir: string): Promise<void>;
  /** The history as an SVG document (`training.svg`). */
  plot(history: M[]): string;
  /** One log line for an epoch (the loop appends the ETA). */
  line(m: M): string;
  /** A name for the first model tensor holding a NaN or infinity, checked after each epoch. */
  firstNonFinite?(): Promise<string | undefined>;
  /** Checkpoint every this many epochs (default 1), and always after the last. */
  checkpointEvery?: number;
  /** Checkpoints kept, newest first (default {@link DEFAULT_KEEP}). */
  keep?: number;
  /** Log every this many epochs (default 1), and always the first and the last. */
  logEvery?: number;
  /** Stop after this many epochs of this invocation (resume later). */
  stopAfter?: number;
}

/** What {@link trainLoop} returns. */
export interface LoopResult<M> {
  /** Every epoch's metrics, oldest first (from earlier invocations too). */
  history: M[];
  /** The last epoch was reached. */
  finished: boolean;
}

/**
 * Runs (or resumes) the epochs of a stage; see the module documentation.
 *
 * @example Any epoch function gets checkpoints, metrics, the guard and resume
 * ```ts
 * import { trainLoop } from "./mod.ts";
 * import { makeProgress } from "../core/progress.ts";
 * let w = 1;
 * const { history, finished } = await trainLoop({
 *   run: await Deno.makeTempDir(),
 *   epochs: 3,
 *   resume: false,
 *   log: makeProgress({ quiet: true }),
 *   restore: async (dir) => void (w = JSON.parse(await Deno.readTextFile(`${dir}/w.json`))),
 *   save: (dir) => Deno.writeTextFile(`${dir}/w.json`, JSON.stringify(w)),
 *   epoch: (epoch, guard) => {
 *     w *= 0.5;
 *     guard(w, "w");
 *     return Promise.resolve({ epoch, w });
 *   },
 *   plot: () => "<svg/>",
 *   line: (m) => `epoch ${m.epoch} w ${m.w}`,
 * });
 * console.log(history.map((m) => m.w), finished); // [0.5, 0.25, 0.125] true
 * ```
 */
export async function trainLoop<M extends EpochLine>(o: LoopOptions<M>): Promise<LoopResult<M>> {
  const unlisten = listenForStop();
  try {
    return await loop(o);
  } finally {
    unlisten();
  }
}

async function loop<M extends EpochLine>(o: LoopOptions<M>): Promise<LoopResult<M>> {
  const t0 = performance.now();
  let history: M[] = [];
  let start = 1;
  let from: EpochPosition | undefined;
  const midDir = join(o.run, "checkpoints", INTERRUPTED);
  if (o.resume) {
    await removeStale(o.run);
    const last = (await listCheckpoints(o.run)).pop();
    const mid = await readJsonIfExists<{ epoch: number; at: EpochPosition }>(
      join(midDir, "state.json"),
    );
    // newer than the newest epoch checkpoint (with checkpointEvery > 1, by more than one)
    if (mid && mid.epoch > (last?.epoch ?? 0)) {
      await o.restore(midDir);
      start = mid.epoch;
      from = mid.at;
      o.log.log(`resuming epoch ${mid.epoch} at batch ${mid.at.batch + 1}`);
    } else if (last) {
      await o.restore(last.dir);
      start = last.epoch + 1;
      o.log.log(`resuming after epoch ${last.epoch}`);
    } else o.log.log("no checkpoint yet: starting from epoch 1");
    history = (await readMetrics<M>(o.run)).filter((m) => m.epoch < start);
    await writeMetrics(o.run, history);
  }
  const stopHint = `the last good checkpoint is kept in ${join(o.run, "checkpoints")} ` +
    "(lower the learning rate and resume)";
  const guard: Guard = (value, what) => {
    if (!Number.isFinite(value)) {
      throw new NumericalError(`${what} became ${value}: training stopped; ${stopHint}`);
    }
  };
  let done = 0;
  const stop = () => stopRequested() !== undefined;
  for (let epoch = start; epoch <= o.epochs; epoch++) {
    const r = await o.epoch(epoch, guard, { from: epoch === start ? from : undefined, stop });
    if ("interrupted" in r) {
      await writeInterrupted(o, midDir, epoch, r.interrupted);
      throw new Preempted(
        `${o.run}: stopped by ${stopRequested() ?? "request"} in epoch ${epoch} before batch ${
          r.interrupted.batch + 1
        }; checkpoint written, run again with --resume to go on`,
      );
    }
    const m = r;
    for (const [k, v] of Object.entries(m)) {
      if (typeof v === "number") guard(v, `${k} at epoch ${epoch}`);
    }
    const bad = await o.firstNonFinite?.();
    if (bad) {
      throw new NumericalError(`${bad} became NaN or infinite at epoch ${epoch}: ${stopHint}`);
    }
    history.push(m);
    done++;
    await appendLine(join(o.run, "metrics.jsonl"), JSON.stringify(m));
    await atomicWrite(join(o.run, "training.svg"), o.plot(history));
    const signalled = stop() && epoch < o.epochs;
    const stopping = (!!o.stopAfter && done >= o.stopAfter && epoch < o.epochs) || signalled;
    if (epoch % (o.checkpointEvery ?? 1) === 0 || epoch === o.epochs || stopping) {
      await writeCheckpoint(o.run, epoch, async (dir) => {
        await o.save(dir);
        await writeJson(join(dir, "state.json"), { epoch, metrics: m });
      }, o.keep ?? DEFAULT_KEEP);
      await Deno.remove(midDir, { recursive: true }).catch(() => {});
    }
    if (epoch === start || epoch === o.epochs || epoch % (o.logEvery ?? 1) === 0) {
      const perEpoch = (performance.now() - t0) / 1000 / done;
      o.log.log(`${o.line(m)} | ETA ${formatDuration(perEpoch * (o.epochs - epoch))}`);
    }
    if (signalled) {
      throw new Preempted(
        `${o.run}: stopped by ${stopRequested()} after epoch ${epoch}; checkpoint written, run ` +
          "again with --resume to go on",
      );
    }
    if (stopping) {
      o.log.log(`stopping after ${done} epoch(s) as asked; continue with --resume`);
      break;
    }
  }
  const finished = history.length > 0 && history[history.length - 1].epoch >= o.epochs;
  return { history, finished };
}

/** Writes `checkpoints/interrupted/` whole or not at all (a hidden folder renamed into place). */
async function writeInterrupted<M extends EpochLine>(
  o: LoopOptions<M>,
  dir: string,
  epoch: number,
  at: EpochPosition,
): Promise<void> {
  const tmp = join(o.run, "checkpoints", `.${INTERRUPTED}.tmp-${Deno.pid}`);
  try {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    await Deno.mkdir(tmp, { recursive: true });
    await o.save(tmp);
    await writeJson(join(tmp, "state.json"), { epoch, at });
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, dir);
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e instanceof CgvsniError ? e : writeError(dir, e);
  }
}
