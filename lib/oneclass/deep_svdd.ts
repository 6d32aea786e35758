/**
 * `mlp`: Deep SVDD (Ruff et al., 2018), the ablation of Flow-SVDD: the same objective and
 * training on the outputs of a bias-free ReLU MLP (without biases it cannot map every input to
 * the constant c, the trivial solution).
 *
 * @example
 * ```ts
 * import { DeepSvdd } from "./deep_svdd.ts";
 * const x = Float32Array.from({ length: 32 * 6 }, (_, i) => Math.cos(i * 0.7));
 * const model = await new DeepSvdd({ hidden: 8, depth: 1, repDim: 4, epochs: 3 }).fit(x, 32, 6);
 * console.log(model.threshold > 0); // true
 * model.dispose();
 * ```
 *
 * @module
 */

import type { Location } from "../core/bundle.ts";
import { loadAs, ONECLASS_STEM, savedCommon, type SavedModel } from "./estimator.ts";
import type { MlpConfig } from "./networks.ts";
import { SvddEstimator, type SvddOptions, svddShapes } from "./_svdd.ts";

/**
 * The MLP's architecture: an {@link MlpConfig} without the input dimension (from the data), with
 * its output dimension named as in the Deep SVDD paper.
 */
export type MlpArch = Omit<MlpConfig, "kind" | "dim" | "out"> & {
  /** Output dimension (the representation the sphere lives in). */
  repDim: number;
};

/** The MLP's default architecture. */
export const MLP_DEFAULTS: MlpArch = { hidden: 1000, depth: 4, repDim: 128 };

/** Settings of {@link DeepSvdd}: training ({@link SvddOptions}) and architecture. */
export type DeepSvddOptions = SvddOptions & Partial<MlpArch>;

/**
 * Deep SVDD with a bias-free MLP.
 *
 * @example Deep SVDD on an array
 * ```ts
 * import { DeepSvdd } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const x = Float32Array.from({ length: 32 * 6 }, (_, i) => Math.cos(i * 0.7));
 * const m = await new DeepSvdd({ hidden: 8, depth: 1, repDim: 4, epochs: 3 }).fit(x, 32, 6);
 * console.log(m.threshold > 0); // true
 * m.dispose();
 * ```
 */
export class DeepSvdd extends SvddEstimator {
  /** Kind tag. */
  readonly kind = "mlp" as const;
  /** The architecture. */
  readonly arch: MlpArch;

  /** An unfitted model. */
  constructor(o: DeepSvddOptions = {}) {
    super(o);
    this.arch = { ...MLP_DEFAULTS };
    for (const k of ["hidden", "depth", "repDim"] as const) {
      if (o[k] !== undefined) this.arch[k] = o[k]!;
    }
    SvddEstimator.checkSizes(
      { hidden: this.arch.hidden, repDim: this.arch.repDim },
      this.arch.depth,
    );
  }

  /** The MLP's architecture for the current dimension. */
  get config(): MlpConfig {
    const { hidden, depth, repDim } = this.arch;
    return { kind: "mlp", dim: this.dim, hidden, depth, out: repDim };
  }

  /** An unfitted copy with the same settings. */
  clone(): DeepSvdd {
    return new DeepSvdd({ ...this.train, ...this.common, ...this.arch });
  }

  /** The arrays a saved model holds. */
  static shapes: typeof svddShapes = svddShapes;

  /** Rebuilds a model read by {@link readSaved}. */
  static restore(saved: SavedModel): DeepSvdd {
    const { hidden, depth, out } = saved.settings.map as MlpConfig;
    const o = { ...(saved.settings as SvddOptions), ...savedCommon(saved) };
    return new DeepSvdd({ ...o, hidden, depth, repDim: out }).restoreSvdd(saved);
  }

  /** Loads a model saved by {@link DeepSvdd.save}. */
  static load(dir: Location, stem = ONECLASS_STEM): Promise<DeepSvdd> {
    return loadAs(dir, stem, "mlp", svddShapes, DeepSvdd.restore);
  }
}
