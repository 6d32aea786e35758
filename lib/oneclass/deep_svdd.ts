/**
 * `mlp`: Deep SVDD (Ruff et al., 2018), the ablation of Flow-SVDD: the same objective and
 * training on the outputs of a bias-free ReLU MLP (without biases it cannot map every input to
 * the constant c, the trivial solution).
 *
 * @example
 * ```ts
 * import { DeepSvdd } from "./deep_svdd.ts";
 * const x = Float32Array.from({ length: 32 * 6 }, (_, i) => Math.cos(i * 0.7));
 * const model = await new DeepSvdd({ hidden: 8, depth: 1, repDim: 4, epochs: 3 }).fit(x, 32, 6, { threshold: "train" });
 * console.log(model.threshold > 0); // true
 * model.dispose();
 * ```
 *
 * @module
 */

import type { Location } from "../core/bundle.ts";
import { ModelError, UsageError } from "../core/errors.ts";
import { readSaved, type SavedModel } from "./estimator.ts";
import { mapValuesOf } from "./flow.ts";
import {
  BiasFreeMlp,
  type FeatureMap,
  type MapParam,
  type MlpConfig,
  mlpParams,
} from "./networks.ts";
import { SvddEstimator, type SvddOptions } from "./_svdd.ts";

/** Settings of {@link DeepSvdd}. */
export interface DeepSvddOptions extends SvddOptions {
  /** Hidden width (1000). */
  hidden?: number;
  /** Hidden-to-hidden layers (4). */
  depth?: number;
  /** Output dimension (128). */
  repDim?: number;
}

/** The defaults of the MLP's architecture. */
export const MLP_DEFAULTS = { hidden: 1000, depth: 4, repDim: 128 };

/**
 * Deep SVDD with a bias-free MLP.
 *
 * @example Deep SVDD on an array
 * ```ts
 * import { DeepSvdd } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const x = Float32Array.from({ length: 32 * 6 }, (_, i) => Math.cos(i * 0.7));
 * const m = await new DeepSvdd({ hidden: 8, depth: 1, repDim: 4, epochs: 3 }).fit(x, 32, 6, { threshold: "train" });
 * console.log(m.threshold > 0); // true
 * m.dispose();
 * ```
 */
export class DeepSvdd extends SvddEstimator {
  /** Kind tag. */
  readonly kind = "mlp" as const;
  /** Hidden width. */
  readonly hidden: number;
  /** Hidden-to-hidden layers. */
  readonly depth: number;
  /** Output dimension. */
  readonly repDim: number;

  /** An unfitted model. */
  constructor(o: DeepSvddOptions = {}) {
    super(o);
    this.hidden = o.hidden ?? MLP_DEFAULTS.hidden;
    this.depth = o.depth ?? MLP_DEFAULTS.depth;
    this.repDim = o.repDim ?? MLP_DEFAULTS.repDim;
    for (const [k, v] of [["hidden", this.hidden], ["rep-dim", this.repDim]] as const) {
      if (!(Number.isInteger(v) && v >= 1)) {
        throw new UsageError(`${k} must be a positive integer, got ${v}`);
      }
    }
    if (!(Number.isInteger(this.depth) && this.depth >= 0)) {
      throw new UsageError(`depth must be a non-negative integer, got ${this.depth}`);
    }
  }

  /** The MLP's architecture for the current dimension. */
  get config(): MlpConfig {
    return { kind: "mlp", dim: this.dim, hidden: this.hidden, depth: this.depth, out: this.repDim };
  }

  /** An unfitted copy with the same settings. */
  protected clone(): DeepSvdd {
    return new DeepSvdd({
      ...this.train,
      nu: this.nu,
      norm: this.norm,
      hidden: this.hidden,
      depth: this.depth,
      repDim: this.repDim,
    });
  }

  /** A freshly initialised feature map. */
  protected createMap(_dim: number, seed: number): FeatureMap {
    return BiasFreeMlp.create(this.config, seed);
  }

  /** The map's architecture, as saved. */
  protected mapConfig(): Record<string, unknown> {
    return { ...this.config };
  }

  /** The map's parameters. */
  protected params(): MapParam[] {
    return mlpParams(this.config);
  }

  /** The map built from saved values. */
  protected mapFrom(values: Map<string, Float32Array>): FeatureMap {
    return new BiasFreeMlp(this.config, values);
  }

  /** The arrays a saved model holds. */
  static shapes(settings: Record<string, unknown>, dim: number): [string, number[]][] {
    const cfg = { ...(settings.map as MlpConfig), dim, kind: "mlp" as const };
    if (
      ![cfg.hidden, cfg.out].every((v) => Number.isInteger(v) && v > 0) ||
      !Number.isInteger(cfg.depth)
    ) {
      throw new RangeError("bad mlp settings");
    }
    return [...mlpParams(cfg).map((p) => [`map/${p.name}`, p.shape] as [string, number[]]), [
      "svdd/c",
      [cfg.out],
    ]];
  }

  /** Rebuilds a model read by {@link readSaved}. */
  static restore(saved: SavedModel): DeepSvdd {
    const s = saved.settings, cfg = s.map as MlpConfig;
    const m = new DeepSvdd({
      ...(s as object),
      nu: saved.nu,
      norm: saved.norm,
      hidden: cfg.hidden,
      depth: cfg.depth,
      repDim: cfg.out,
    });
    m.dim = saved.dim;
    m.restoreSvdd(saved, mapValuesOf(saved));
    return m;
  }

  /** Loads a model saved by {@link DeepSvdd.save}. */
  static async load(dir: Location, stem = "oneclass"): Promise<DeepSvdd> {
    const saved = await readSaved(dir, stem, (_k, s, d) => DeepSvdd.shapes(s, d));
    if (saved.kind !== "mlp") {
      throw new ModelError(`${saved.where}: a ${saved.kind} model, not mlp`);
    }
    return DeepSvdd.restore(saved);
  }
}
