/**
 * Beyond one process: work as a graph of units with dependencies, run here in one process
 * ({@link runLocal}) or as Slurm batch jobs ({@link submit}), sharded into contiguous slices of a
 * sorted work list ({@link shardOf}) whose outputs merge back into exactly what one process
 * writes. The folder of a graph is the one source of truth of what finished: executors and
 * `cgvsni status` read its markers (see `graph.ts`).
 *
 * @module
 */

export {
  allShards,
  parseShard,
  type Shard,
  shardFiles,
  shardName,
  shardOf,
  shardRange,
  WHOLE,
} from "./shard.ts";
export {
  clearMarks,
  fingerprint,
  type Graph,
  isDone,
  lastDone,
  markDone,
  markFailed,
  markRedo,
  orderUnits,
  readGraph,
  redoOf,
  type RedoReason,
  type Resources,
  shardsOf,
  type Unit,
  unitOf,
  unitSeconds,
  type UnitState,
  unitState,
  writeGraph,
} from "./graph.ts";
export {
  finishedShards,
  inputsOf,
  kindOf,
  type LocalOptions,
  type LocalSummary,
  runGraph,
  runLocal,
  runUnit,
  type UnitContext,
  type UnitKind,
  type UnitKinds,
} from "./local.ts";
export {
  arraySpec,
  clusterStatus,
  type Exec,
  liveShards,
  parseResources,
  queueStates,
  readSubmissions,
  resourcesOf,
  sbatchScript,
  shellQuote,
  SLURM_PROGRAMS,
  type SlurmOptions,
  slurmTime,
  type Submission,
  submit,
  type SubmitSummary,
  systemExec,
  type UnitStatus,
} from "./slurm.ts";
