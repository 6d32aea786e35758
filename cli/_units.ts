/**
 * Every kind of unit the executors know, by name: the experiment's (map, feature vectors,
 * one-class model, evaluation, matrix), the one-class comparison's (its maps, a one-class model
 * fitted and evaluated, the table), the robustness grid's (an evaluation per perturbation,
 * the table), `detect`'s and `evaluate --detector`'s (a shard of images, the merge). `run-unit`
 * and `submit` look kinds up here, so that a job runs whatever graph its folder holds.
 *
 * @module
 */

import type { UnitKinds } from "../lib/cluster/local.ts";
import { EXPERIMENT_KINDS } from "../lib/eval/experiment.ts";
import { ONECLASS_MATRIX_KINDS } from "../lib/eval/oneclass_matrix.ts";
import { ROBUSTNESS_KINDS } from "../lib/eval/robustness.ts";
import { DETECT_KINDS } from "./detect.ts";
import { EVALUATE_KINDS } from "./evaluate.ts";

/** Every unit kind, by name. */
export const UNIT_KINDS: UnitKinds = {
  ...EXPERIMENT_KINDS,
  ...ONECLASS_MATRIX_KINDS,
  ...ROBUSTNESS_KINDS,
  ...DETECT_KINDS,
  ...EVALUATE_KINDS,
};
