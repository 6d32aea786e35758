/**
 * The heads on whole-image features by name: `linear` ({@link LogisticHead}, the default) and
 * `rbf` ({@link RbfSvmHead}); a new one of either, and either read back from its saved form (the
 * `format` of `head.json` says which).
 *
 * @module
 */

import { ModelError, UsageError } from "../core/errors.ts";
import { LINEAR_HEAD_FORMAT, LOGISTIC_DEFAULTS, LogisticHead } from "./logistic.ts";
import { RBF_HEAD_FORMAT, RBF_SVM_DEFAULTS, RbfSvmHead } from "./svm.ts";

/** A head's model by name. */
export type HeadModel = "linear" | "rbf";

/** Every {@link HeadModel}, the default first. */
export const HEAD_MODELS: readonly HeadModel[] = ["linear", "rbf"];

/** A head on whole-image features: either model (the same methods, threshold and reference). */
export type FeatureHead = LogisticHead | RbfSvmHead;

/** Settings every model takes; C's default is the model's own. */
export interface HeadOptions {
  /** Inverse regularisation strength (linear) or box constraint (rbf). */
  c?: number;
  /** Share of the photographs above the threshold. */
  nu?: number;
  /** Seed of the threshold's folds. */
  seed?: number;
}

/**
 * The default C of a model.
 *
 * @example
 * ```ts
 * import { defaultC } from "./mod.ts";
 * console.log(defaultC("linear"), defaultC("rbf")); // 0.1 1
 * ```
 */
export function defaultC(model: HeadModel): number {
  return model === "rbf" ? RBF_SVM_DEFAULTS.c : LOGISTIC_DEFAULTS.c;
}

/**
 * An unfitted head of a model.
 *
 * @example
 * ```ts
 * import { makeHead } from "./mod.ts";
 * console.log(makeHead("rbf").c, makeHead("linear").c); // 1 0.1
 * ```
 */
export function makeHead(model: HeadModel, o: HeadOptions = {}): FeatureHead {
  if (model === "linear") return new LogisticHead(o);
  if (model === "rbf") return new RbfSvmHead(o);
  throw new UsageError(`no head model "${model}" (${HEAD_MODELS.join(", ")})`);
}

/**
 * The model of a head.
 *
 * @example
 * ```ts
 * import { headModel, makeHead } from "./mod.ts";
 * console.log(headModel(makeHead("rbf")), headModel(makeHead("linear"))); // rbf linear
 * ```
 */
export function headModel(h: FeatureHead): HeadModel {
  return h instanceof RbfSvmHead ? "rbf" : "linear";
}

/**
 * A head from its saved form, of the model its `format` names, every field checked (`where`
 * names the file in errors).
 *
 * @example A saved head read back as the model it was
 * ```ts
 * import { headFromJSON, makeHead } from "./mod.ts";
 * const x = Float32Array.from({ length: 40 }, (_, i) => (i % 2) * 2 + Math.sin(i)), y = x.map((_, i) => i % 2);
 * const h = makeHead("rbf").fit(x, 40, 1, y, y.map((v, i) => v ? 100 + i : i % 4));
 * console.log(headFromJSON(JSON.parse(JSON.stringify(h.toJSON()))).constructor.name); // RbfSvmHead
 * ```
 */
export function headFromJSON(raw: unknown, where = "head.json"): FeatureHead {
  const format = (raw as { format?: unknown })?.format;
  if (format === RBF_HEAD_FORMAT) return RbfSvmHead.fromJSON(raw, where);
  if (format === LINEAR_HEAD_FORMAT) return LogisticHead.fromJSON(raw, where);
  throw new ModelError(
    `${where}: format is "${format}", expected "${LINEAR_HEAD_FORMAT}" or "${RBF_HEAD_FORMAT}"`,
  );
}
