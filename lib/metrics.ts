/**
 * Detection metrics on scores where larger means "computer-generated" (label 1).
 *
 * @module
 */

import { CgvsniError } from "./errors.ts";

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
