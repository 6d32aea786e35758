/**
 * What an evaluation holds: its metrics, the per-image scores, the per-renderer results with
 * their intervals, and the controls. `evaluate.ts` computes it, `results.ts` writes it, and the
 * detector's evaluation (`evaluate_detector.ts`) fills the same shape.
 *
 * @module
 */

import type { Verdict, VerdictRule } from "../detect/detector.ts";
import type { HeadThreshold } from "../map/threshold.ts";
import type { RocPoint, WithCi } from "./metrics.ts";

/** How many crops an image is judged on. */
export type CropMode = "tiles" | "ten" | "center";

/** The metrics the evaluation reports. */
export const METRICS = [
  "accuracy",
  "cgRecall",
  "niRecall",
  "hter",
  "auc",
  "eer",
  "tprAt5",
] as const;

/** One metric name. */
export type MetricName = typeof METRICS[number];

/** Results for natural images against one renderer. */
export interface RendererResult {
  /** Renderer (class) name. */
  renderer: string;
  /** Its label. */
  label: number;
  /** A renderer the map was trained on. */
  seen: boolean;
  /** Natural test images. */
  natural: number;
  /** This renderer's test images. */
  rendered: number;
  /** Supervised head (p(CG) ≥ its threshold); absent without a map. */
  head?: Record<MetricName, WithCi>;
  /** One-class model (score > 0). */
  oneclass: Record<MetricName, WithCi>;
  /** The fused score of both stages (> 0); absent unless every image has one. */
  fused?: Record<MetricName, WithCi>;
  /** ROC curves. */
  roc: { head?: RocPoint[]; oneclass: RocPoint[]; fused?: RocPoint[] };
}

/** Per-image scores. */
export interface ImageScore {
  /** Name in dataset.csv. */
  name: string;
  /** Label. */
  label: number;
  /** Top-level folder. */
  source: string;
  /** Mean p(CG) over the image's crops (NaN without a map). */
  pCg: number;
  /** Mean one-class score over the image's vectors. */
  score: number;
  /**
   * The fused score of head and one-class model (> 0: computer-generated; Detector.fused),
   * when both stages have their natural references.
   */
  fused?: number;
  /** Mean L2 norm of the image's one-class feature vectors. */
  norm: number;
  /**
   * Whether the image fails a check of the one-class model (a Gaussian's check part: the
   * residual features' slope), so that the one-class stage never calls it natural; undefined
   * when the model has no checks.
   */
  failsCheck?: boolean;
  /**
   * What a detector calls the image under its rule (`evaluate --detector`, and a run's detector in
   * slices), as `detect` would; absent for a run's own evaluation.
   */
  verdict?: Verdict;
}

/** Feature-norm summary of a class. */
export interface NormSummary {
  /** Class name. */
  name: string;
  /** Images. */
  n: number;
  /** Mean. */
  mean: number;
  /** Quartiles: 25 %, 50 %, 75 %. */
  q: [number, number, number];
}

/** The controls (see the module documentation). */
export interface Controls {
  /**
   * Natural test images blurred (σ 1.5): share the one-class model puts outside, the share it
   * does not call natural (outside, or failing a check; models with checks only), and the share
   * the head calls CG.
   */
  positive?: {
    perturbation: string;
    n: number;
    oneclassOutside: WithCi;
    oneclassNotNatural?: WithCi;
    headCg?: WithCi;
    /** The share the fused score calls CG, when every blurred image has one. */
    fusedCg?: WithCi;
  };
  /** Natural test images per source folder: share inside (target 1 − ν). */
  negative: { source: string; n: number; inside: WithCi }[];
  /** 1 − ν. */
  target: number;
}

/** Everything an evaluation reports (also `results.json`). */
export interface Evaluation {
  /** The detector evaluated, when it was one (`evaluate --detector`), not a run. */
  detector?: string;
  /** Its verdict rule, which the images' verdicts follow. */
  rule?: VerdictRule;
  /** Map run name (none for a one-class run of its own). */
  map?: string;
  /** One-class run name. */
  oneclassRun: string;
  /** One-class model kind. */
  oneclassKind: string;
  /** Its feature source. */
  features: string;
  /** The renderers the map was trained on (`+`-joined), or "none". */
  trainedOn: string;
  /** What was scored: the test split, or a dataset folder. */
  testSet: string;
  /** A perturbation applied to every test image, if any. */
  perturbation?: string;
  /** Crop mode and count per image (head, map features). */
  crops: { mode: CropMode; perImage: number };
  /** Bootstrap resamples and seed. */
  bootstrap: { reps: number; seed: number };
  /** One-class threshold and how it was set. */
  threshold: { value: number; from: string; nu: number };
  /** The head's threshold on p(CG) and how it was set (absent without a map). */
  headThreshold?: HeadThreshold;
  /** Results per renderer, in label order. */
  results: RendererResult[];
  /** Feature norms per class. */
  norms: NormSummary[];
  /** Positive and negative controls. */
  controls?: Controls;
  /** Per-image scores. */
  images: ImageScore[];
  /** Test images that could not be used, with the reason. */
  skipped: string[];
  /** When it was computed. */
  created: string;
}
