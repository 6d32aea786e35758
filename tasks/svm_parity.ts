/**
 * The kernel head against scikit-learn (docs/production.md, "A non-linear head"): reads the JSON
 * `tasks/py/svm_parity.py` writes (the training rows, their labels and scikit-learn's decisions
 * on them and on held-out rows), fits {@link RbfSvmHead} on the same rows and prints how far its
 * decisions are from scikit-learn's.
 *
 *     /usr/bin/python3 tasks/py/svm_parity.py --out /tmp/svm.json [features options]
 *     deno run --allow-read tasks/svm_parity.ts /tmp/svm.json
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { RbfSvmHead } from "../lib/head/mod.ts";

const file = Deno.args[0];
if (!file) throw new Error("usage: svm_parity.ts FILE.json (tasks/py/svm_parity.py --out)");
const raw = JSON.parse(readFileSync(file, "utf8")) as {
  dim: number;
  train: number[][];
  y: number[];
  test: number[][];
  decisionTrain: number[];
  decisionTest: number[];
  supportVectors: number;
};
const x = Float32Array.from(raw.train.flat()), n = raw.train.length;
const groups = raw.y.map((v, i) => v ? 1_000_000 + i : i % 7);
const t0 = performance.now();
const h = new RbfSvmHead().fit(x, n, raw.dim, raw.y, groups);
const seconds = (performance.now() - t0) / 1000;
const report = (name: string, ours: Float64Array, theirs: number[]) => {
  const diff = ours.map((v, i) => Math.abs(v - theirs[i]));
  const span = Math.max(...theirs) - Math.min(...theirs);
  let same = 0, pairs = 0;
  for (let i = 0; i < theirs.length; i += 3) {
    for (let j = i + 1; j < theirs.length; j += 7) {
      if (Math.abs(theirs[i] - theirs[j]) < 2e-3) continue; // within the solvers' tolerance
      pairs++;
      if (Math.sign(ours[i] - ours[j]) === Math.sign(theirs[i] - theirs[j])) same++;
    }
  }
  console.log(
    `${name}: ${theirs.length} rows, decisions differ by at most ${
      Math.max(...diff).toExponential(2)
    } (mean ${(diff.reduce((a, v) => a + v, 0) / diff.length).toExponential(2)}) over a range of ${
      span.toFixed(2)
    }; pairs more than 2e-3 apart ordered alike ${(same / pairs).toFixed(5)}`,
  );
};
report("training rows", h.decisionFunction(x, n), raw.decisionTrain);
report(
  "held-out rows",
  h.decisionFunction(Float32Array.from(raw.test.flat()), raw.test.length),
  raw.decisionTest,
);
console.log(
  `support vectors: ${h.supportVectors} here, ${raw.supportVectors} in scikit-learn; ` +
    `fit with its out-of-fold threshold ${seconds.toFixed(1)} s`,
);
