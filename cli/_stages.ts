/**
 * Flags shared by the commands that run several stages (experiment, oneclass-matrix): how to
 * train the maps and one-class models and evaluate them, and turning them into options.
 *
 * @module
 */

import type { BackendName } from "../lib/backends/select.ts";
import type { EvaluateOptions } from "../lib/eval/evaluate.ts";
import type { FeatureSource } from "../lib/features/sources.ts";
import type { TrainMapOptions } from "../lib/map/train.ts";
import { DEFAULT_SOURCE, FEATURE_SOURCES } from "../lib/features/sources.ts";
import { DEFAULT_KIND, ONECLASS_KINDS, type OneClassKind } from "../lib/oneclass/estimator.ts";
import type { TrainOneClassOptions } from "../lib/oneclass/train.ts";
import { SVDD_DEFAULTS } from "../lib/oneclass/mod.ts";
import { FLOW_DEFAULTS } from "../lib/oneclass/flow.ts";
import { bool, choice, type Flag, num, type ParsedArgs, str } from "./_args.ts";
import { DEFAULT_NU } from "../lib/core/stats.ts";
import { DEFAULT_EVAL_TILES } from "../lib/eval/evaluate.ts";
import { DEFAULT_BOOTSTRAP } from "../lib/eval/metrics.ts";
import { PROTOCOL_DEFAULTS } from "../lib/map/train.ts";

/** `--features`: the one-class stage's feature source (train-oneclass, experiment). */
export const FEATURES_FLAG: Flag = {
  name: "features",
  type: "string",
  arg: "SRC",
  default: DEFAULT_SOURCE,
  help: `one-class feature source: ${FEATURE_SOURCES.join("|")}`,
};

/** `--oneclass`: the one-class model kind (train-oneclass, experiment). */
export const ONECLASS_FLAG: Flag = {
  name: "oneclass",
  type: "string",
  arg: "KIND",
  default: DEFAULT_KIND,
  help: `one-class model: ${ONECLASS_KINDS.join("|")}`,
};

/** Map, one-class and evaluation flags. */
export const STAGE_FLAGS: Flag[] = [
  { name: "preset", type: "string", arg: "P", default: "small", help: "map architecture preset" },
  {
    name: "tiles",
    type: "string",
    arg: "N",
    default: String(PROTOCOL_DEFAULTS.default.tiles),
    help: "map (and map-feature) training crops per image side",
  },
  { name: "epochs", type: "string", arg: "N", help: "map epochs (protocol default)" },
  {
    name: "lr",
    setting: true,
    type: "string",
    arg: "X",
    help: "map learning rate (preset default)",
  },
  { name: "lr-step", setting: true, type: "string", arg: "N", help: "map lr x0.1 every N epochs" },
  {
    name: "augment",
    setting: true,
    type: "string",
    arg: "LIST",
    help: "map training augmentations (see train-map --help)",
  },
  {
    name: "augment-p",
    setting: true,
    type: "string",
    arg: "P",
    help: "probability of each augmentation",
  },
  {
    name: "match-compression",
    type: "string",
    arg: "Q",
    help: "re-encode every image as JPEG quality Q first",
  },
  {
    name: "oneclass-tiles",
    setting: true,
    type: "string",
    arg: "N",
    help: "one-class training crops per image side (default: --tiles)",
  },
  {
    name: "oneclass-epochs",
    setting: true,
    type: "string",
    arg: "N",
    default: String(SVDD_DEFAULTS.epochs),
    help: "flow/mlp epochs",
  },
  {
    name: "oneclass-hidden",
    setting: true,
    type: "string",
    arg: "N",
    default: String(FLOW_DEFAULTS.hidden),
    help: "flow/mlp hidden width",
  },
  { name: "nu", type: "string", arg: "X", default: String(DEFAULT_NU), help: "one-class nu" },
  {
    name: "eval-tiles",
    setting: true,
    type: "string",
    arg: "N",
    default: String(DEFAULT_EVAL_TILES),
    help: "evaluation crops per image side",
  },
  {
    name: "bootstrap",
    type: "string",
    arg: "N",
    default: String(DEFAULT_BOOTSTRAP),
    help: "bootstrap resamples",
  },
  {
    name: "skip-bad",
    setting: true,
    type: "boolean",
    help: "skip unusable training images (listed in the run's skipped.txt) instead of stopping",
  },
];

/** The map, one-class and evaluation options the stage flags give. */
export function stageOptions(a: ParsedArgs, backend: BackendName): {
  map: Partial<TrainMapOptions>;
  oneclass: Partial<TrainOneClassOptions>;
  evaluation: Partial<EvaluateOptions>;
} {
  const tiles = num(a, "tiles", { int: true, min: 1, max: 16 });
  const skipBad = bool(a, "skip-bad") || undefined;
  return {
    map: {
      skipBad,
      preset: str(a, "preset"),
      tiles,
      epochs: num(a, "epochs", { int: true, min: 1 }),
      lr: num(a, "lr", { min: 0 }),
      lrStep: num(a, "lr-step", { int: true, min: 1 }),
      augment: str(a, "augment"),
      augmentP: num(a, "augment-p", { min: 0, max: 1 }),
      matchCompression: num(a, "match-compression", { int: true, min: 1, max: 100 }),
      backend,
    },
    oneclass: {
      skipBad,
      tiles: num(a, "oneclass-tiles", { int: true, min: 1, max: 16 }) ?? tiles,
      settings: {
        epochs: num(a, "oneclass-epochs", { int: true, min: 1 }),
        hidden: num(a, "oneclass-hidden", { int: true, min: 1 }),
        nu: num(a, "nu", { min: 0, max: 1 }),
      },
      backend,
    },
    evaluation: {
      tiles: num(a, "eval-tiles", { int: true, min: 1, max: 16 }),
      bootstrap: num(a, "bootstrap", { int: true, min: 1 }),
      backend,
    },
  };
}

/** `--features` as a list (`all`, or comma-separated). */
export function sourcesOf(a: ParsedArgs, name = "features"): FeatureSource[] | undefined {
  const v = str(a, name);
  if (v === undefined || v === "all") return undefined;
  return v.split(",").map((s) => s.trim()).map((s) =>
    choice({ values: { x: s }, positionals: [] }, "x", FEATURE_SOURCES)!
  );
}

/** `--oneclass` as a list (`all`, or comma-separated). */
export function kindsOf(a: ParsedArgs, name = ONECLASS_FLAG.name): OneClassKind[] | undefined {
  const v = str(a, name);
  if (v === undefined || v === "all") return undefined;
  return v.split(",").map((s) => s.trim()).map((s) =>
    choice({ values: { x: s }, positionals: [] }, "x", ONECLASS_KINDS)!
  );
}
