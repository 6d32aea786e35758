/**
 * Stage 6, evaluation: metrics with bootstrap intervals, the evaluation protocol (head and
 * one-class model per renderer, controls) of a run or of a saved detector (`evaluate
 * --detector`), experiments over renderers (pairs, leave one renderer out), the one-class
 * comparison, the robustness grid (each a graph of units for the executors, lib/cluster/), a map
 * run's feature vectors computed ahead in slices, and the HTML report.
 *
 * @module
 */

export {
  bootstrap,
  DEFAULT_BOOTSTRAP,
  eer,
  type MetricSet,
  metricSet,
  type Rates,
  rates,
  rocAuc,
  rocCurve,
  type RocPoint,
  TPR_AT_FPR,
  tprAtFpr,
  type WithCi,
} from "./metrics.ts";
export { DEFAULT_CROPS, DEFAULT_EVAL_TILES, evaluate, type EvaluateOptions } from "./evaluate.ts";
export {
  detectorEvaluationDir,
  evaluateDetector,
  type EvaluateDetectorOptions,
  evaluationShardFile,
  mergeDetectorEvaluation,
  scoreDetectorShard,
  type ScoredPart,
} from "./evaluate_detector.ts";
export {
  type Controls,
  type CropMode,
  type Evaluation,
  type ImageScore,
  type MetricName,
  METRICS,
  type NormSummary,
  type RendererResult,
} from "./evaluation.ts";
export {
  experiment,
  EXPERIMENT_DEFAULTS,
  EXPERIMENT_KINDS,
  experimentGraph,
  type ExperimentGraphOptions,
  type ExperimentOptions,
  experimentPlan,
  type ExperimentProtocol,
  type Matrix,
  type MatrixCell,
  pipeline,
  pipelineEvaluate,
  pipelineMap,
  pipelineOneClass,
  type PipelineOptions,
} from "./experiment.ts";
export {
  type Calls,
  fusedParts,
  loso,
  LOSO_BALANCES,
  LOSO_DEFAULTS,
  LOSO_RULES,
  type LosoBalance,
  type LosoCell,
  type LosoFeatures,
  losoMarkdown,
  type LosoOptions,
  type LosoResult,
  type LosoRow,
  type LosoThreshold,
  type RuleSummary,
  sourceWeights,
} from "./loso.ts";
export {
  MATRIX_DEFAULTS,
  MATRIX_KINDS,
  ONECLASS_MATRIX_KINDS,
  type OneClassCell,
  type OneClassMatrix,
  oneclassMatrix,
  type OneClassMatrixOptions,
  oneclassMatrixPlan,
} from "./oneclass_matrix.ts";
export { FEATURES_KINDS, precomputeFeatures, type PrecomputeOptions } from "./precompute.ts";
export {
  type Robustness,
  robustness,
  ROBUSTNESS_GRID,
  ROBUSTNESS_KINDS,
  type RobustnessOptions,
  robustnessPlan,
  type RobustnessRow,
} from "./robustness.ts";
export { evaluationViews } from "./scoring.ts";
export { writeReport } from "./report.ts";
