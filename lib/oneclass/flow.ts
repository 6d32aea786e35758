/**
 * `flow`: Flow-SVDD, the method's one-class stage. A volume-preserving NICE flow (additive
 * couplings, log|det J| = 0 exactly; see networks.ts) is trained with the SVDD objective on the
 * natural vectors (see _svdd.ts); the raw score is ‖f(x) − c‖², and with `threshold: "train"`
 * the threshold is R², the (1 − ν) quantile of the training vectors' squared distances.
 *
 * @example Fit a small flow on an array and score new vectors
 * ```ts
 * import { FlowSvdd } from "./flow.ts";
 * const x = Float32Array.from({ length: 64 * 4 }, (_, i) => Math.sin(i * 1.3));
 * const model = await new FlowSvdd({ hidden: 16, depth: 1, epochs: 4 }).fit(x, 64, 4);
 * console.log((await model.decisionFunction(x.subarray(0, 8), 2)).length); // 2
 * model.dispose();
 * ```
 *
 * @module
 */

import type { Location } from "../core/bundle.ts";
import { loadAs, ONECLASS_STEM, savedCommon, type SavedModel } from "./estimator.ts";
import type { FlowConfig } from "./networks.ts";
import { SvddEstimator, type SvddOptions, svddShapes } from "./_svdd.ts";

/** The flow's architecture: a {@link FlowConfig} without the dimension, which comes from the data. */
export type FlowArch = Omit<FlowConfig, "kind" | "dim">;

/** The flow's default architecture. */
export const FLOW_DEFAULTS: FlowArch = { couplings: 4, hidden: 1000, depth: 4 };

/** Settings of {@link FlowSvdd}: training ({@link SvddOptions}) and architecture. */
export type FlowOptions = SvddOptions & Partial<FlowArch>;

/**
 * Flow-SVDD.
 *
 * @example Flow-SVDD fitted on an array, from a script
 * ```ts
 * import { FlowSvdd } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const x = Float32Array.from({ length: 64 * 4 }, (_, i) => Math.sin(i * 1.3));
 * const m = await new FlowSvdd({ hidden: 16, depth: 1, epochs: 4 }).fit(x, 64, 4);
 * console.log(await m.decisionFunction(x.subarray(0, 8), 2)); // two scores; > 0 means outside
 * m.dispose();
 * ```
 */
export class FlowSvdd extends SvddEstimator {
  /** Kind tag. */
  readonly kind = "flow" as const;
  /** The architecture. */
  readonly arch: FlowArch;

  /** An unfitted model. */
  constructor(o: FlowOptions = {}) {
    super(o);
    const {
      couplings = FLOW_DEFAULTS.couplings,
      hidden = FLOW_DEFAULTS.hidden,
      depth = FLOW_DEFAULTS.depth,
    } = o;
    SvddEstimator.checkSizes({ couplings, hidden }, depth);
    this.arch = { couplings, hidden, depth };
  }

  /** The flow's architecture for the current dimension. */
  get config(): FlowConfig {
    return { kind: "flow", dim: this.dim, ...this.arch };
  }

  /** An unfitted copy with the same settings. */
  clone(): FlowSvdd {
    return new FlowSvdd({ ...this.train, ...this.common, ...this.arch });
  }

  /** The arrays a saved flow holds. */
  static shapes: typeof svddShapes = svddShapes;

  /** Rebuilds a model read by {@link readSaved}. */
  static restore(saved: SavedModel): FlowSvdd {
    const { couplings, hidden, depth } = saved.settings.map as FlowConfig;
    const o = { ...(saved.settings as SvddOptions), ...savedCommon(saved) };
    return new FlowSvdd({ ...o, couplings, hidden, depth }).restoreSvdd(saved);
  }

  /** Loads a model saved by {@link FlowSvdd.save}. */
  static load(dir: Location, stem = ONECLASS_STEM): Promise<FlowSvdd> {
    return loadAs(dir, stem, "flow", svddShapes, FlowSvdd.restore);
  }
}
