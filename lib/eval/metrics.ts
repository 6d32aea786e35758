/**
 * Detection metrics on scores where larger means "computer-generated" (label 1).
 *
 * @module
 */

import { CgvsniError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { quantile } from "../core/stats.ts";

function checkBoth(labels: ArrayLike<number>, what: string): [number, number] {
  let pos = 0, neg = 0;
  for (let i = 0; i < labels.length; i++) labels[i] === 1 ? pos++ : neg++;
  if (pos === 0 || neg === 0) {
    throw new CgvsniError(
      `${what} needs both classes; got ${pos} computer-generated and ${neg} natural`,
    );
  }
  return [pos, neg];
}

/**
 * ROC AUC: the probability that a random rendered image scores higher than a random natural
 * one, ties counting one half (Mann-Whitney U with mid-ranks). Throws if a class is missing.
 *
 * @example ROC AUC with ties
 * ```ts
 * import { rocAuc } from "./mod.ts";
 * console.log(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])); // 0.75
 * ```
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const [pos, neg] = checkBoth(labels, "ROC AUC");
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) =>
    scores[a] - scores[b]
  );
  let rankSum = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (labels[idx[k]] === 1) rankSum += midRank;
    i = j + 1;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** One point of a ROC curve: the rates when scores ≥ `threshold` are called rendered. */
export interface RocPoint {
  /** False-positive rate (natural called rendered). */
  fpr: number;
  /** True-positive rate (rendered called rendered). */
  tpr: number;
  /** Decision threshold (score ≥ threshold → rendered); +Infinity for the origin. */
  threshold: number;
}

/**
 * The ROC curve, one point per distinct score (as scikit-learn's `roc_curve` with
 * `drop_intermediate=False`), starting at (0, 0).
 *
 * @example The ROC curve
 * ```ts
 * import { rocCurve } from "./mod.ts";
 * console.log(rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]).map((p) => [p.fpr, p.tpr]));
 * ```
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocPoint[] {
  const [pos, neg] = checkBoth(labels, "a ROC curve");
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) =>
    scores[b] - scores[a]
  );
  const out: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0, fp = 0;
  for (let i = 0; i < idx.length; i++) {
    labels[idx[i]] === 1 ? tp++ : fp++;
    if (i + 1 < idx.length && scores[idx[i + 1]] === scores[idx[i]]) continue;
    out.push({ fpr: fp / neg, tpr: tp / pos, threshold: scores[idx[i]] });
  }
  return out;
}

/**
 * Equal error rate: where the false-positive rate equals the false-negative rate, linearly
 * interpolated between the two ROC points whose difference FNR − FPR changes sign.
 *
 * @example Equal error rate
 * ```ts
 * import { eer } from "./mod.ts";
 * console.log(eer([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])); // 0.5
 * ```
 */
export function eer(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const roc = rocCurve(scores, labels);
  for (let i = 1; i < roc.length; i++) {
    const a = roc[i - 1], b = roc[i];
    const da = 1 - a.tpr - a.fpr, db = 1 - b.tpr - b.fpr;
    if (da >= 0 && db <= 0) {
      if (da === db) return a.fpr;
      const t = da / (da - db);
      return a.fpr + t * (b.fpr - a.fpr);
    }
  }
  return 0.5; // unreachable: the curve goes from (0,0) to (1,1)
}

/** The false-positive rate of the reported TPR (`tprAt5`: TPR at FPR = 5 %). */
export const TPR_AT_FPR = 0.05;

/**
 * The highest true-positive rate reachable with a false-positive rate ≤ `maxFpr` (no interpolation).
 *
 * @example TPR at FPR 5 %
 * ```ts
 * import { tprAtFpr } from "./mod.ts";
 * console.log(tprAtFpr([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.05)); // 0.5
 * ```
 */
export function tprAtFpr(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  maxFpr = TPR_AT_FPR,
): number {
  let best = 0;
  for (const p of rocCurve(scores, labels)) {
    if (p.fpr <= maxFpr + 1e-12) best = Math.max(best, p.tpr);
  }
  return best;
}

/** Rates of hard decisions (`decisions[i]` = 1: called rendered). */
export interface Rates {
  /** Share of all images decided right. */
  accuracy: number;
  /** Rendered images called rendered (TPR). */
  cgRecall: number;
  /** Natural images called natural (TNR). */
  niRecall: number;
  /** Half total error rate: (FPR + FNR) / 2. */
  hter: number;
}

/**
 * Accuracy, per-class recall and HTER of hard decisions.
 *
 * @example Accuracy, recalls and HTER of decisions
 * ```ts
 * import { rates } from "./mod.ts";
 * console.log(rates([0, 1, 1, 1], [0, 0, 1, 1])); // { accuracy: 0.75, cgRecall: 1, niRecall: 0.5, hter: 0.25 }
 * ```
 */
export function rates(decisions: ArrayLike<number>, labels: ArrayLike<number>): Rates {
  const [pos, neg] = checkBoth(labels, "error rates");
  let tp = 0, tn = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 1 && decisions[i] === 1) tp++;
    if (labels[i] !== 1 && decisions[i] !== 1) tn++;
  }
  const cgRecall = tp / pos, niRecall = tn / neg;
  return {
    accuracy: (tp + tn) / (pos + neg),
    cgRecall,
    niRecall,
    hter: ((1 - niRecall) + (1 - cgRecall)) / 2,
  };
}

/** Every metric the evaluation reports for one score type on one renderer. */
export interface MetricSet extends Rates {
  /** ROC AUC. */
  auc: number;
  /** Equal error rate. */
  eer: number;
  /** TPR at FPR = 5 %. */
  tprAt5: number;
}

/**
 * All metrics of scores with a decision threshold (score ≥ threshold → rendered, or > if `strict`).
 *
 * @example Every metric at a threshold
 * ```ts
 * import { metricSet } from "./mod.ts";
 * console.log(metricSet([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.5, false));
 * ```
 */
export function metricSet(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
  strict: boolean,
): MetricSet {
  const decisions = Array.from(scores, (s) => (strict ? s > threshold : s >= threshold) ? 1 : 0);
  return {
    ...rates(decisions, labels),
    auc: rocAuc(scores, labels),
    eer: eer(scores, labels),
    tprAt5: tprAtFpr(scores, labels, TPR_AT_FPR),
  };
}

/** A metric with its 95 % bootstrap confidence interval. */
export interface WithCi {
  /** The value on the full test set. */
  value: number;
  /** 2.5th percentile of the bootstrap distribution. */
  lo: number;
  /** 97.5th percentile. */
  hi: number;
}

/** Bootstrap resamples of every confidence interval unless told another (`--bootstrap`). */
export const DEFAULT_BOOTSTRAP = 1000;

/**
 * Stratified bootstrap: resamples natural and rendered images separately (so both classes are
 * always present), `reps` times with a seeded generator, and returns each metric with the 2.5
 * and 97.5 percentiles of its bootstrap distribution.
 *
 * @example A metric with its 95 % interval
 * ```ts
 * import { bootstrap, rocAuc } from "./mod.ts";
 * const r = bootstrap([0.1, 0.4, 0.35, 0.8, 0.9], [0, 0, 1, 1, 1], (s, l) => ({ auc: rocAuc(s, l) }), 200, 0);
 * console.log(r.auc); // { value, lo, hi }
 * ```
 */
export function bootstrap(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  fn: (s: number[], l: number[]) => Record<string, number>,
  reps = DEFAULT_BOOTSTRAP,
  seed = 0,
): Record<string, WithCi> {
  checkBoth(labels, "a bootstrap");
  const full = fn(Array.from(scores), Array.from(labels));
  const pos: number[] = [], neg: number[] = [];
  for (let i = 0; i < labels.length; i++) (labels[i] === 1 ? pos : neg).push(i);
  const rng = new Rng(`bootstrap:${seed}`);
  const samples: Record<string, number[]> = Object.fromEntries(
    Object.keys(full).map((k) => [k, []]),
  );
  for (let r = 0; r < reps; r++) {
    const s: number[] = [], l: number[] = [];
    for (const group of [pos, neg]) {
      for (let k = 0; k < group.length; k++) {
        const i = group[rng.int(group.length)];
        s.push(scores[i]);
        l.push(labels[i]);
      }
    }
    const m = fn(s, l);
    for (const k of Object.keys(full)) samples[k].push(m[k]);
  }
  const pct = (xs: number[], q: number) => {
    const finite = xs.filter(Number.isFinite);
    return finite.length ? quantile(finite, q) : NaN;
  };
  return Object.fromEntries(
    Object.entries(full).map((
      [k, v],
    ) => [k, { value: v, lo: pct(samples[k], 0.025), hi: pct(samples[k], 0.975) }]),
  );
}
