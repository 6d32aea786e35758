/**
 * Every kind of unit the executors know, by name: the experiment's (map, one-class model,
 * evaluation, matrix) `detect`'s and `evaluate --detector`'s (a shard of images, the merge). `run-unit` and `submit` look
 * kinds up here, so that a job runs whatever graph its folder holds.
 *
 * @module
 */

import type { UnitKinds } from "../lib/cluster/local.ts";
import { EXPERIMENT_KINDS } from "../lib/eval/experiment.ts";
import { DETECT_KINDS } from "./detect.ts";
import { EVALUATE_KINDS } from "./evaluate.ts";

/** Every unit kind, by name. */
export const UNIT_KINDS: UnitKinds = { ...EXPERIMENT_KINDS, ...DETECT_KINDS, ...EVALUATE_KINDS };
