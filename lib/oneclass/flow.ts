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
 * const model = await new FlowSvdd({ hidden: 16, depth: 1, epochs: 4 }).fit(x, 64, 4, { threshold: "train" });
 * console.log((await model.score(x.subarray(0, 8), 2)).length); // 2
 * model.dispose();
 * ```
 *
 * @module
 */

import type { Location } from "../core/bundle.ts";
import { ModelError, UsageError } from "../core/errors.ts";
import { readSaved, type SavedModel } from "./estimator.ts";
import {
  type FeatureMap,
  type FlowConfig,
  flowParams,
  type MapParam,
  NiceFlow,
} from "./networks.ts";
import { SvddEstimator, type SvddOptions } from "./_svdd.ts";

/** Settings of {@link FlowSvdd}. */
export interface FlowOptions extends SvddOptions {
  /** Additive couplings (4). */
  couplings?: number;
  /** Hidden width of the coupling networks (1000). */
  hidden?: number;
  /** Hidden-to-hidden layers per coupling network (4). */
  depth?: number;
}

/** The defaults of the flow's architecture. */
export const FLOW_DEFAULTS = { couplings: 4, hidden: 1000, depth: 4 };

/**
 * Flow-SVDD.
 *
 * @example Flow-SVDD fitted on an array, from a script
 * ```ts
 * import { FlowSvdd } from "./mod.ts";
 * import { initBackend } from "../backends/mod.ts";
 * await initBackend("auto");
 * const x = Float32Array.from({ length: 64 * 4 }, (_, i) => Math.sin(i * 1.3));
 * const m = await new FlowSvdd({ hidden: 16, depth: 1, epochs: 4 }).fit(x, 64, 4, { threshold: "train" });
 * console.log(await m.score(x.subarray(0, 8), 2)); // two scores; > 0 means outside
 * m.dispose();
 * ```
 */
export class FlowSvdd extends SvddEstimator {
  /** Kind tag. */
  readonly kind = "flow" as const;
  /** Additive couplings. */
  readonly couplings: number;
  /** Hidden width. */
  readonly hidden: number;
  /** Hidden-to-hidden layers. */
  readonly depth: number;

  /** An unfitted model. */
  constructor(o: FlowOptions = {}) {
    super(o);
    this.couplings = o.couplings ?? FLOW_DEFAULTS.couplings;
    this.hidden = o.hidden ?? FLOW_DEFAULTS.hidden;
    this.depth = o.depth ?? FLOW_DEFAULTS.depth;
    for (const [k, v] of [["couplings", this.couplings], ["hidden", this.hidden]] as const) {
      if (!(Number.isInteger(v) && v >= 1)) {
        throw new UsageError(`${k} must be a positive integer, got ${v}`);
      }
    }
    if (!(Number.isInteger(this.depth) && this.depth >= 0)) {
      throw new UsageError(`depth must be a non-negative integer, got ${this.depth}`);
    }
  }

  /** The flow's architecture for the current dimension. */
  get config(): FlowConfig {
    return {
      kind: "flow",
      dim: this.dim,
      couplings: this.couplings,
      hidden: this.hidden,
      depth: this.depth,
    };
  }

  /** An unfitted copy with the same settings. */
  protected clone(): FlowSvdd {
    return new FlowSvdd({ ...this.train, nu: this.nu, norm: this.norm, ...this.config });
  }

  /** A freshly initialised feature map. */
  protected createMap(_dim: number, seed: number): FeatureMap {
    return NiceFlow.create(this.config, seed);
  }

  /** The map's architecture, as saved. */
  protected mapConfig(): Record<string, unknown> {
    return { ...this.config };
  }

  /** The map's parameters. */
  protected params(): MapParam[] {
    return flowParams(this.config);
  }

  /** The map built from saved values. */
  protected mapFrom(values: Map<string, Float32Array>): FeatureMap {
    return new NiceFlow(this.config, values);
  }

  /** The arrays a saved flow holds. */
  static shapes(settings: Record<string, unknown>, dim: number): [string, number[]][] {
    const cfg = { ...(settings.map as FlowConfig), dim, kind: "flow" as const };
    if (
      ![cfg.couplings, cfg.hidden].every((v) => Number.isInteger(v) && v > 0) ||
      !Number.isInteger(cfg.depth)
    ) {
      throw new RangeError("bad flow settings");
    }
    return [...flowParams(cfg).map((p) => [`map/${p.name}`, p.shape] as [string, number[]]), [
      "svdd/c",
      [dim],
    ]];
  }

  /** Rebuilds a model read by {@link readSaved}. */
  static restore(saved: SavedModel): FlowSvdd {
    const s = saved.settings, cfg = s.map as FlowConfig;
    const m = new FlowSvdd({
      ...(s as object),
      nu: saved.nu,
      norm: saved.norm,
      couplings: cfg.couplings,
      hidden: cfg.hidden,
      depth: cfg.depth,
    });
    m.dim = saved.dim;
    m.restoreSvdd(saved, mapValuesOf(saved));
    return m;
  }

  /** Loads a model saved by {@link FlowSvdd.save}. */
  static async load(dir: Location, stem = "oneclass"): Promise<FlowSvdd> {
    const saved = await readSaved(dir, stem, (_k, s, d) => FlowSvdd.shapes(s, d));
    if (saved.kind !== "flow") {
      throw new ModelError(`${saved.where}: a ${saved.kind} model, not flow`);
    }
    return FlowSvdd.restore(saved);
  }
}

/** The `map/…` arrays of a saved SVDD model, by parameter name. */
export function mapValuesOf(saved: SavedModel): Map<string, Float32Array> {
  return new Map(
    [...saved.arrays].filter(([n]) => n.startsWith("map/")).map(([n, a]) => [n.slice(4), a.data]),
  );
}
