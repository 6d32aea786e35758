import assert from "node:assert/strict";
import {
  bootstrap,
  eer,
  metricSet,
  rates,
  rocAuc,
  rocCurve,
  tprAtFpr,
} from "../../../lib/eval/metrics.ts";
import { CgvsniError } from "../../../lib/core/errors.ts";
import { compare } from "../../../tasks/metrics_check.ts";

Deno.test("metrics: ROC curve points, one per distinct score, ties together", () => {
  const roc = rocCurve([0.9, 0.8, 0.8, 0.1], [1, 0, 1, 0]);
  assert.deepEqual(roc.map((p) => [p.fpr, p.tpr]), [[0, 0], [0, 0.5], [0.5, 1], [1, 1]]);
  assert.deepEqual(roc.map((p) => p.threshold), [Infinity, 0.9, 0.8, 0.1]);
});

Deno.test("metrics: EER interpolates where FNR crosses FPR", () => {
  // perfect separation: 0; inverted: 1; one swap in four of each: 0.25
  assert.equal(eer([1, 2, 3, 4], [0, 0, 1, 1]), 0);
  assert.equal(eer([4, 3, 2, 1], [0, 0, 1, 1]), 1);
  assert.equal(eer([1, 2, 3, 5, 4, 6, 7, 8], [0, 0, 0, 0, 1, 1, 1, 1]), 0.25);
  assert.equal(eer([1, 1, 1, 1], [0, 1, 0, 1]), 0.5);
});

Deno.test("metrics: TPR at FPR 5 %, rates and HTER of decisions", () => {
  const s = Array.from({ length: 40 }, (_, i) => i), l = s.map((i) => (i >= 20 ? 1 : 0));
  l[39] = 0; // the top score is natural: FPR 1/21 < 5 % already at the first point
  assert.equal(tprAtFpr(s, l, 0.05), 19 / 19);
  assert.equal(tprAtFpr(s, l, 0.01), 0);
  const r = rates([1, 1, 0, 0, 1], [1, 0, 0, 1, 1]);
  assert.deepEqual([r.accuracy, r.cgRecall, r.niRecall], [0.6, 2 / 3, 0.5]);
  assert.ok(Math.abs(r.hter - (0.5 + 1 / 3) / 2) < 1e-15);
  const m = metricSet([0.2, 0.7, 0.5], [0, 1, 0], 0.5, false);
  assert.equal(m.accuracy, 2 / 3); // 0.5 >= 0.5 is called rendered
  assert.equal(metricSet([0.2, 0.7, 0.5], [0, 1, 0], 0.5, true).accuracy, 1); // strict: 0.5 is not > 0.5
});

Deno.test("metrics: a single class is a clear error, never NaN", () => {
  for (
    const f of [
      () => rocAuc([1, 2], [0, 0]),
      () => eer([1], [1]),
      () => rates([1], [1]),
      () => metricSet([1, 2], [1, 1], 0, true),
    ]
  ) {
    assert.throws(
      f,
      (e) => e instanceof CgvsniError && /needs both classes/.test((e as Error).message),
    );
  }
});

Deno.test("metrics: bootstrap is seeded, its interval contains the value, and both classes stay present", () => {
  const s = [0.1, 0.4, 0.35, 0.8, 0.2, 0.9, 0.7, 0.3], l = [0, 0, 1, 1, 0, 1, 1, 0];
  const f = (a: number[], b: number[]) => ({ auc: rocAuc(a, b) });
  const a = bootstrap(s, l, f, 300, 1),
    b = bootstrap(s, l, f, 300, 1),
    c = bootstrap(s, l, f, 300, 2);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(a.auc.value, rocAuc(s, l));
  assert.ok(a.auc.lo <= a.auc.value && a.auc.value <= a.auc.hi && a.auc.lo < a.auc.hi);
});

const sklearn = await new Deno.Command("/usr/bin/python3", {
  args: ["-c", "import sklearn"],
  stderr: "null",
}).output()
  .then((o) => o.success).catch(() => false);

Deno.test({
  name: "metrics: AUC, EER, TPR@5%, accuracy, recalls and HTER equal scikit-learn's within 1e-6",
  ignore: !sklearn,
  async fn() {
    const r = await compare();
    assert.ok(r.maxDiff <= 1e-6, r.worst);
    assert.ok(r.cases >= 40);
  },
});
