/**
 * The run folder, written once for every stage: starting or resuming a run
 * ({@link openRun}), and the training loop that owns checkpoints, metrics, plots, the
 * non-finite guard, `--stop-after` and stopping on SIGTERM with a checkpoint ({@link trainLoop}).
 *
 * @module
 */

export { openRun, type OpenRunOptions } from "./lifecycle.ts";
export {
  DEFAULT_KEEP,
  type EpochAt,
  type EpochLine,
  type EpochPosition,
  type Guard,
  INTERRUPTED,
  type Interrupted,
  type LoopOptions,
  type LoopResult,
  trainLoop,
} from "./loop.ts";
export { DEFAULT_RUNS, readMetrics } from "./folder.ts";
export { clearStop, listenForStop, requestStop, stopRequested } from "./stop.ts";
