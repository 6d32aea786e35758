/**
 * Making and loading any kind of one-class model by name: what the training stage, the
 * evaluation and detectors use, so they need not know the kinds.
 *
 * @module
 */

import { at, type Location } from "../core/bundle.ts";
import { ModelError } from "../core/errors.ts";
import { type FeatureSource, sourceSpec, specKey } from "../features/sources.ts";
import { DeepSvdd, type DeepSvddOptions } from "./deep_svdd.ts";
import {
  type FeatureProvenance,
  ONECLASS_STEM,
  type OneClassEstimator,
  type OneClassKind,
  readSaved,
} from "./estimator.ts";
import { type FlowOptions, FlowSvdd } from "./flow.ts";
import { GaussianOneClass, type GaussOptions } from "./gauss.ts";
import { KnnOneClass, type KnnOptions } from "./knn.ts";
import { type GmmOptions, MixtureOneClass } from "./gmm.ts";

/** Settings of any kind (each kind reads its own). */
export type AnyOptions =
  & FlowOptions
  & DeepSvddOptions
  & GaussOptions
  & KnnOptions
  & GmmOptions;

/**
 * An unfitted model of `kind`.
 *
 * @example A model of any kind by name
 * ```ts
 * import { createOneClass } from "./mod.ts";
 * const m = createOneClass("knn", { neighbours: 3, threshold: "train" });
 * const x = Float32Array.from({ length: 20 * 2 }, (_, i) => i % 7);
 * await m.fit(x, 20, 2);
 * console.log(m.kind, m.threshold);
 * ```
 */
export function createOneClass(kind: OneClassKind, o: AnyOptions = {}): OneClassEstimator {
  switch (kind) {
    case "flow":
      return new FlowSvdd(o);
    case "mlp":
      return new DeepSvdd(o);
    case "gauss":
      return new GaussianOneClass(o);
    case "knn":
      return new KnnOneClass(o);
    case "gmm":
      return new MixtureOneClass(o);
  }
}

const KINDS = {
  flow: FlowSvdd,
  mlp: DeepSvdd,
  gauss: GaussianOneClass,
  knn: KnnOneClass,
  gmm: MixtureOneClass,
};

/**
 * Loads a saved one-class model of any kind, checking every shape, size and checksum.
 *
 * @example Load a saved model of any kind
 * ```ts
 * import { KnnOneClass, loadOneClass } from "./mod.ts";
 * const x = Float32Array.from({ length: 20 * 2 }, (_, i) => i % 7);
 * const dir = await Deno.makeTempDir();
 * await (await new KnnOneClass({ threshold: "train" }).fit(x, 20, 2)).save(dir);
 * console.log((await loadOneClass(dir)).kind); // knn
 * ```
 */
export async function loadOneClass(
  dir: Location,
  stem = ONECLASS_STEM,
): Promise<OneClassEstimator> {
  const saved = await readSaved(dir, stem, (kind, s, d) => KINDS[kind].shapes(s, d));
  const model = KINDS[saved.kind].restore(saved);
  const v = otherFeatureVersion(model.provenance);
  if (v !== undefined) {
    const source = model.provenance!.source;
    model.dispose();
    throw new ModelError(
      `${at(dir, `${stem}.json`)}: fitted on ${source} features of another ` +
        `definition (version ${v}; this toolkit computes version ${
          sourceSpec(source as FeatureSource)!.version
        }): fit it again`,
    );
  }
  return model;
}

/**
 * The version of the whole-image features (`residual`, `mobilenet`) a model was fitted on, when
 * their definition is not the one this toolkit computes ({@link sourceSpec}); undefined for map
 * sources and for the same definition. Such a model cannot score today's features.
 *
 * @example A model fitted on version 1 of the residual features
 * ```ts
 * import { otherFeatureVersion } from "./io.ts";
 * console.log(otherFeatureVersion({ source: "residual", residual: { version: 1 } })); // 1
 * console.log(otherFeatureVersion({ source: "l9" })); // undefined
 * ```
 */
export function otherFeatureVersion(p: FeatureProvenance | undefined): number | undefined {
  const source = p?.source as FeatureSource | undefined;
  const key = source && specKey(source);
  if (!key || JSON.stringify(p![key]) === JSON.stringify(sourceSpec(source!))) return undefined;
  return (p![key] as { version?: number } | undefined)?.version ?? 1;
}
