/**
 * The run folder, written once for every stage: starting or resuming a run
 * ({@link openRun}), and the training loop that owns checkpoints, metrics, plots, the
 * non-finite guard and `--stop-after` ({@link trainLoop}).
 *
 * @module
 */

export { openRun, type OpenRunOptions } from "./lifecycle.ts";
export {
  DEFAULT_KEEP,
  type EpochLine,
  type Guard,
  type LoopOptions,
  type LoopResult,
  trainLoop,
} from "./loop.ts";
export { DEFAULT_RUNS, readMetrics } from "./folder.ts";
