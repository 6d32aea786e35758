import assert from "node:assert/strict";
import { tf } from "../../../lib/core/deps.ts";
import { Rng } from "../../../lib/core/rng.ts";
import { quantile, weightedQuantile } from "../../../lib/core/stats.ts";
import { DeepSvdd } from "../../../lib/oneclass/deep_svdd.ts";
import {
  type EstimatorOptions,
  groupMeans,
  type OneClassEstimator,
} from "../../../lib/oneclass/estimator.ts";
import { FlowSvdd } from "../../../lib/oneclass/flow.ts";
import { GaussianOneClass, ledoitWolfShrinkage } from "../../../lib/oneclass/gauss.ts";
import { loadOneClass } from "../../../lib/oneclass/io.ts";
import { RESIDUAL_SPEC } from "../../../lib/features/residual.ts";
import { PRETRAINED_SPEC } from "../../../lib/features/pretrained.ts";
import { KnnOneClass } from "../../../lib/oneclass/knn.ts";
import { MixtureOneClass } from "../../../lib/oneclass/gmm.ts";
import { Normaliser } from "../../../lib/oneclass/normalise.ts";
import { testBackend, withTempDir } from "../../_helpers.ts";

/** `n` vectors of dimension `d` from a correlated Gaussian, and `m` shifted ones. */
function data(n: number, m: number, d: number, seed = 1) {
  const r = new Rng(seed);
  const mix = Float32Array.from({ length: d * d }, () => r.normal() / Math.sqrt(d));
  const draw = (k: number, shift: number) => {
    const out = new Float32Array(k * d);
    for (let i = 0; i < k; i++) {
      const z = Array.from({ length: d }, () => r.normal());
      for (let j = 0; j < d; j++) {
        let s = shift;
        for (let t = 0; t < d; t++) s += mix[j * d + t] * z[t];
        out[i * d + j] = s;
      }
    }
    return out;
  };
  return { train: draw(n, 0), inliers: draw(m, 0), outliers: draw(m, 3) };
}

/** Every kind, made for vectors of dimension `d`. */
const makers: [string, (d: number, o?: EstimatorOptions) => OneClassEstimator][] = [
  ["gauss", (_, o) => new GaussianOneClass(o)],
  ["gauss parts", (d, o) => new GaussianOneClass({ ...o, parts: [d - 2, 2] })],
  ["gauss pca", (_, o) => new GaussianOneClass({ ...o, pca: 3 })],
  ["knn", (_, o) => new KnnOneClass({ ...o, neighbours: 3 })],
  ["gmm", (_, o) => new MixtureOneClass({ ...o, components: 2 })],
  [
    "knn cosine l2",
    (_, o) => new KnnOneClass({ ...o, neighbours: 3, metric: "cosine", norm: "l2" }),
  ],
  ["flow", (_, o) => new FlowSvdd({ ...o, hidden: 12, depth: 1, epochs: 6, batchSize: 16 })],
  [
    "mlp",
    (_, o) => new DeepSvdd({ ...o, hidden: 12, depth: 1, repDim: 4, epochs: 6, batchSize: 16 }),
  ],
];

Deno.test("oneclass: every estimator fits, scores outliers above inliers, and saves and loads bit-identically", async () => {
  await testBackend();
  const d = 6, { train, inliers, outliers } = data(80, 20, d);
  for (const [name, make] of makers) {
    const before = tf.memory().numTensors;
    const m = await make(d, { threshold: "train", folds: 3, seed: 7 }).fit(train, 80, d);
    const si = await m.decisionFunction(inliers, 20), so = await m.decisionFunction(outliers, 20);
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(mean(so) > mean(si), `${name}: outliers ${mean(so)} vs inliers ${mean(si)}`);
    assert.deepEqual([...(await m.predict(outliers, 20))].length, 20);
    await withTempDir(async (dir) => {
      m.provenance = { source: "residual", residual: RESIDUAL_SPEC, note: name };
      await m.save(dir, "oc", { extra: 7 });
      const back = await loadOneClass(dir, "oc");
      assert.equal(back.kind, m.kind, name);
      assert.deepEqual(await back.decisionFunction(outliers, 20), so, name);
      assert.equal(back.threshold, m.threshold);
      // a refit of the loaded model (calibrate) sets its threshold as this one was, same folds
      // and seed
      const again = back.clone();
      assert.deepEqual(
        [again.thresholdMode, again.folds, again.seed, again.nu],
        ["train", 3, 7, m.nu],
        name,
      );
      again.dispose();
      // the natural scores the threshold came from, kept for reading a score as a tail p-value
      assert.deepEqual(back.reference, m.reference, name);
      const top = m.reference![m.reference!.length - 1] - m.threshold;
      assert.equal(back.naturalTail(top + 1), 1 / (m.reference!.length + 1), name);
      assert.equal(back.naturalTail(-Infinity), 1, name);
      assert.deepEqual(back.provenance, {
        source: "residual",
        residual: RESIDUAL_SPEC,
        note: name,
      });
      back.dispose();
      // a model fitted on another definition of the residual features is refused, by name
      m.provenance = { source: "residual", residual: { truncation: 3 } };
      await m.save(dir, "old");
      await assert.rejects(
        loadOneClass(dir, "old"),
        new RegExp(
          `old\\.json: fitted on residual features of another definition \\(version 1; .* version ${RESIDUAL_SPEC.version}\\)`,
        ),
      );
      // and so is one fitted on another definition of the pretrained CNN's features
      m.provenance = { source: "mobilenet", pretrained: { ...PRETRAINED_SPEC, layer: "out_relu" } };
      await m.save(dir, "cnn");
      await assert.rejects(
        loadOneClass(dir, "cnn"),
        new RegExp(
          `cnn\\.json: fitted on mobilenet features of another definition \\(version 1; .* version ${PRETRAINED_SPEC.version}\\)`,
        ),
      );
      m.provenance = { source: "mobilenet", pretrained: PRETRAINED_SPEC };
      await m.save(dir, "cnn");
      (await loadOneClass(dir, "cnn")).dispose();
    });
    m.dispose();
    assert.equal(tf.memory().numTensors, before, `${name} leaks tensors`);
  }
});

Deno.test("oneclass: the train threshold is exactly the (1 - nu) quantile of the training scores", async () => {
  await testBackend();
  const d = 5, { train } = data(60, 1, d, 2);
  for (const [name, make] of makers) {
    const m = await make(d, { threshold: "train" }).fit(train, 60, d);
    // the raw training scores: k-NN leaves each vector out, the others score it as any vector
    const raw = m.kind === "knn"
      ? (await m.decisionFunction(train, 60)).map((v) => v + m.threshold)
      : await m.scoreSamples(train, 60);
    if (m.kind !== "knn") {
      assert.ok(
        Math.abs(m.threshold - quantile(raw, 0.95)) <= 1e-6 * Math.max(1, m.threshold),
        name,
      );
    } else {
      // the stored threshold comes from leave-one-out scores, so it is at least the in-sample one
      assert.ok(m.threshold >= quantile(raw, 0.95) - 1e-9, name);
    }
    const inside = (await m.decisionFunction(train, 60)).filter((s) => s <= 0).length / 60;
    assert.ok(inside >= 0.95 - 1 / 60, `${name}: ${inside} inside`);
    m.dispose();
  }
});

Deno.test("oneclass: the cv threshold is the quantile of out-of-fold scores, whole groups per fold", async () => {
  await testBackend();
  const d = 4, { train } = data(40, 1, d, 3);
  const groups = Array.from({ length: 40 }, (_, i) => Math.floor(i / 4)); // 10 images x 4 crops
  const m = await new GaussianOneClass({ threshold: "cv", folds: 5 }).fit(train, 40, d, { groups });
  const oof = await new GaussianOneClass({ folds: 5 }).outOfFold(train, 40, d, { groups });
  assert.equal(m.thresholdFrom, "cv");
  // decisions are per image: the threshold is the quantile of per-image mean scores
  assert.ok(Math.abs(m.threshold - quantile(groupMeans(oof, groups), 0.95)) < 1e-9);
  assert.equal(groupMeans(oof, groups).length, 10);
  // they are kept, ascending, one per image: the model's natural reference
  assert.deepEqual(
    Array.from(m.reference!),
    Array.from(Float32Array.from(groupMeans(oof, groups)).sort()),
  );
  // out-of-fold scores are larger than in-sample ones: the threshold is looser than train's
  const t = await new GaussianOneClass({ threshold: "train" }).fit(train, 40, d, { groups });
  assert.ok(m.threshold > t.threshold);
  // val: the quantile of the given natural vectors
  const v = await new GaussianOneClass({ threshold: "val" }).fit(train, 40, d, {
    validation: { x: train.subarray(0, 40), n: 10 },
  });
  assert.ok(
    Math.abs(v.threshold - quantile(await v.scoreSamples(train.subarray(0, 40), 10), 0.95)) < 1e-9,
  );
  assert.equal(v.reference!.length, 10);
});

/**
 * 120 training vectors of 42 columns, and 20 odd ones: natural in the first 40 columns, not in
 * the last 2 (shifted by 0.8, in opposite directions).
 */
function bigAndSmall() {
  const n = 120, m = 20, big = data(n, m, 40, 4), small = data(n, m, 2, 5);
  const join = (a: Float32Array, b: Float32Array, k: number) => {
    const out = new Float32Array(k * 42);
    for (let i = 0; i < k; i++) {
      out.set(a.subarray(i * 40, (i + 1) * 40), i * 42);
      out.set(b.subarray(i * 2, (i + 1) * 2), i * 42 + 40);
    }
    return out;
  };
  const shifted = small.inliers.map((v, i) => v + (i % 2 ? -0.8 : 0.8));
  return { n, m, train: join(big.train, small.train, n), odd: join(big.inliers, shifted, m) };
}

Deno.test("oneclass: a Gaussian with parts scores each part on its own scale, so a small part is not drowned", async () => {
  const { n, m, train, odd } = bigAndSmall();
  const parts = await new GaussianOneClass({ parts: [40, 2] }).fit(train, n, 42);
  const joint = await new GaussianOneClass().fit(train, n, 42);
  // each part: a Gaussian of its columns alone, its distances over the (1 - nu) quantile of its
  // out-of-fold distances; the score: the larger of the two
  const cols = (x: Float32Array, k: number, a: number, b: number) =>
    Float32Array.from(
      { length: k * (b - a) },
      (_, i) => x[Math.floor(i / (b - a)) * 42 + a + (i % (b - a))],
    );
  let expected = new Float32Array(m).fill(-Infinity);
  for (const [a, b] of [[0, 40], [40, 42]]) {
    const alone = await new GaussianOneClass().fit(cols(train, n, a, b), n, b - a);
    const oof = await new GaussianOneClass().outOfFold(cols(train, n, a, b), n, b - a, {});
    const dist = await alone.scoreSamples(cols(odd, m, a, b), m), scale = quantile(oof, 0.95);
    expected = expected.map((v, i) => Math.max(v, dist[i] / scale));
  }
  const raw = await parts.scoreSamples(odd, m);
  raw.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]) < 1e-3 * expected[i], `${v} vs ${expected[i]}`)
  );
  // each part's score, by name; the model's score is the largest
  const byPart = parts.partScores(odd, m), score = await parts.decisionFunction(odd, m);
  assert.deepEqual(Object.keys(byPart), ["part1", "part2"]);
  score.forEach((v, i) => assert.equal(v, Math.max(byPart.part1[i], byPart.part2[i])));
  assert.ok(byPart.part2.every((v, i) => v >= byPart.part1[i]), "the odd columns decide");
  await withTempDir(async (dir) => {
    const named = await new GaussianOneClass({ parts: [40, 2], partNames: ["big", "small"] })
      .fit(train, n, 42);
    await named.save(dir);
    const back = await loadOneClass(dir) as GaussianOneClass;
    assert.deepEqual(back.partNames, ["big", "small"]);
    assert.deepEqual(back.partScores(odd, m), named.partScores(odd, m));
  });
  assert.deepEqual(joint.partScores(odd, m), {});
  // the parts model puts nearly all of them outside; one Gaussian over all 42 columns far fewer
  const out = async (g: GaussianOneClass) => (await g.predict(odd, m)).reduce((s, v) => s + v, 0);
  const [byParts, byJoint] = [await out(parts), await out(joint)];
  assert.ok(byParts >= 19 && byJoint <= 16, `parts ${byParts}, joint ${byJoint} of ${m}`);
  // settings that cannot work are refused
  assert.throws(() => new GaussianOneClass({ parts: [3, 0] }), /positive integers/);
  assert.throws(() => new GaussianOneClass({ parts: [3, 2], pca: 2 }), /cannot be combined/);
  assert.throws(() => new GaussianOneClass({ parts: [3, 2], partNames: ["a", "a"] }), /name each/);
  await assert.rejects(new GaussianOneClass({ parts: [30, 2] }).fit(train, n, 42), /do not add up/);
});

Deno.test("oneclass: a check part does not score, but the vectors far out in it fail the check", async () => {
  const { n, m, train, odd } = bigAndSmall();
  const names = { parts: [40, 2], partNames: ["big", "small"] };
  const both = await new GaussianOneClass(names).fit(train, n, 42);
  const checked = await new GaussianOneClass({ ...names, checks: ["small"] }).fit(train, n, 42);
  // the same two Gaussians and scales: each part's distance over its scale is the same in both
  const scaled = (g: GaussianOneClass, part: "big" | "small") =>
    g.partScores(odd, m)[part].map((v) => v + (g.checks.includes(part) ? 1 : g.threshold));
  const [bigScaled, smallScaled] = [scaled(both, "big"), scaled(both, "small")];
  const close = (a: Float32Array, b: Float32Array) =>
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-5 * Math.abs(b[i]), `${v} vs ${b[i]}`));
  close(scaled(checked, "big"), bigScaled);
  close(scaled(checked, "small"), smallScaled);
  // raw: the scoring part alone; the threshold: the (1 - nu) quantile of its out-of-fold values
  close(await checked.scoreSamples(odd, m), bigScaled);
  const byPart = checked.partScores(odd, m), score = await checked.decisionFunction(odd, m);
  score.forEach((v, i) => assert.equal(v, byPart.big[i]));
  assert.deepEqual(checked.checkScores(odd, m), byPart.small);
  assert.equal(both.checkScores(odd, m), undefined);
  // the odd vectors are natural by the scoring part, and nearly all fail the check
  const outside = score.filter((v) => v > 0).length;
  const failed = byPart.small.filter((v) => v > 0).length;
  assert.ok(outside <= 3 && failed >= 19, `${outside} outside, ${failed} fail the check of ${m}`);
  await withTempDir(async (dir) => {
    await checked.save(dir);
    const back = await loadOneClass(dir) as GaussianOneClass;
    assert.deepEqual(back.checks, ["small"]);
    assert.deepEqual(await back.decisionFunction(odd, m), score);
    assert.deepEqual(back.partScores(odd, m), byPart);
  });
  assert.throws(() => new GaussianOneClass({ ...names, checks: ["tiny"] }), /checks must name/);
  assert.throws(() => new GaussianOneClass({ checks: ["part1"] }), /checks must name/);
  assert.throws(
    () => new GaussianOneClass({ ...names, checks: ["big", "small"] }),
    /at least one part must score/,
  );
});

Deno.test("oneclass: Gaussian scores are the Ledoit-Wolf Mahalanobis distances, direct and through Woodbury", async () => {
  // the shrinkage equals scikit-learn 1.2's ledoit_wolf_shrinkage (Debian python3-sklearn),
  // with fewer dimensions than vectors and with more (the Gram-matrix path)
  const centred = (x: number[][]) => {
    const mu = x[0].map((_, j) => x.reduce((s, r) => s + r[j], 0) / x.length);
    return {
      rows: x.length,
      cols: x[0].length,
      data: Float64Array.from(x.flatMap((r) => r.map((v, j) => v - mu[j]))),
    };
  };
  assert.ok(
    Math.abs(ledoitWolfShrinkage(centred([[1, 2], [3, 4], [5, 7]])) - 0.33754829645240625) < 1e-12,
  );
  // weighted (a mixture component's rows): a row of weight k counts as that row k times, the
  // rows centred on the weighted mean
  const gen = new Rng(4), w = Array.from({ length: 12 }, (_, i) => 1 + (i % 3));
  const base = Array.from({ length: 12 }, () => Array.from({ length: 4 }, () => gen.normal()));
  const repeated = centred(base.flatMap((r, i) => Array.from({ length: w[i] }, () => r)));
  const total = w.reduce((a, b) => a + b, 0);
  const mu = [0, 1, 2, 3].map((j) => base.reduce((s, r, i) => s + w[i] * r[j], 0) / total);
  const once = {
    rows: 12,
    cols: 4,
    data: Float64Array.from(base.flatMap((r) => r.map((v, j) => v - mu[j]))),
  };
  const lw = ledoitWolfShrinkage(repeated);
  assert.ok(lw > 0.01 && lw < 0.99, `${lw}`);
  assert.ok(Math.abs(ledoitWolfShrinkage(once, undefined, w) - lw) < 1e-12);
  assert.ok(Math.abs(ledoitWolfShrinkage(once) - lw) > 1e-3);
  const wide = [ // numpy.random.RandomState(0).randn(5, 9)
    [
      1.764052345967664,
      0.4001572083672233,
      0.9787379841057392,
      2.240893199201458,
      1.8675579901499675,
      -0.977277879876411,
      0.9500884175255894,
      -0.1513572082976979,
      -0.10321885179355784,
    ],
    [
      0.41059850193837233,
      0.144043571160878,
      1.454273506962975,
      0.7610377251469934,
      0.12167501649282841,
      0.44386323274542566,
      0.33367432737426683,
      1.4940790731576061,
      -0.20515826376580087,
    ],
    [
      0.31306770165090136,
      -0.8540957393017248,
      -2.5529898158340787,
      0.6536185954403606,
      0.8644361988595057,
      -0.7421650204064419,
      2.2697546239876076,
      -1.4543656745987648,
      0.04575851730144607,
    ],
    [
      -0.1871838500258336,
      1.5327792143584575,
      1.469358769900285,
      0.1549474256969163,
      0.37816251960217356,
      -0.8877857476301128,
      -1.980796468223927,
      -0.3479121493261526,
      0.15634896910398005,
    ],
    [
      1.2302906807277207,
      1.2023798487844113,
      -0.3873268174079523,
      -0.30230275057533557,
      -1.0485529650670926,
      -1.4200179371789752,
      -1.7062701906250126,
      1.9507753952317897,
      -0.5096521817516535,
    ],
  ];
  assert.ok(Math.abs(ledoitWolfShrinkage(centred(wide)) - 0.5899005893991282) < 1e-12);
  // more dimensions than vectors: the Woodbury form equals the explicit inverse
  const d = 12, n = 8, r = new Rng(5);
  const train = Float32Array.from({ length: n * d }, () => r.normal());
  const test = Float32Array.from({ length: 3 * d }, () => r.normal());
  const m = await new GaussianOneClass({ norm: "none", threshold: "train" }).fit(train, n, d);
  // explicit: Σ = (1-δ)S + δμI from the same data
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += train[i * d + j] / n;
  const S = Array.from({ length: d }, (_, a) =>
    Array.from({ length: d }, (_, b) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (train[i * d + a] - mean[a]) * (train[i * d + b] - mean[b]);
      return s / n;
    }));
  const tr = S.reduce((s, row, i) => s + row[i], 0) / d, delta = m.shrinkage;
  const sigma = S.map((row, i) => row.map((v, j) => (1 - delta) * v + (i === j ? delta * tr : 0)));
  const inv = invert(sigma);
  const raw = await m.scoreSamples(test, 3);
  for (let k = 0; k < 3; k++) {
    const y = Array.from({ length: d }, (_, j) => test[k * d + j] - mean[j]);
    const q = y.reduce((s, yi, i) => s + yi * inv[i].reduce((t, v, j) => t + v * y[j], 0), 0);
    assert.ok(Math.abs(raw[k] - q) <= 1e-3 * q, `${raw[k]} vs ${q}`);
  }
});

Deno.test("oneclass: normalisation is fitted, applied and saved; bad settings are refused", () => {
  const x = new Float32Array([1, 10, 3, 30, 5, 50]);
  const s = Normaliser.fit("standardise", x, 3, 2);
  assert.deepEqual([...s.apply(x, 3)].map((v) => +v.toFixed(4)), [
    -1.2247,
    -1.2247,
    0,
    0,
    1.2247,
    1.2247,
  ]);
  const l2 = Normaliser.fit("l2", x, 3, 2).apply(new Float32Array([3, 4]), 1);
  assert.deepEqual([...l2].map((v) => +v.toFixed(4)), [0.6, 0.8]);
  assert.throws(() => new GaussianOneClass({ nu: 1.5 }), /nu must be in \(0, 1\)/);
  assert.throws(() => new KnnOneClass({ neighbours: 0 }), /k must be a positive integer/);
  assert.throws(() => new FlowSvdd({ epochs: 0 }), /epochs must be a positive integer/);
});

function invert(a: number[][]): number[][] {
  const n = a.length,
    m = a.map((row, i) => [...row, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const v = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= v;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c];
      for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row) => row.slice(n));
}

Deno.test("oneclass: a Gaussian in parts with folds of two whole groups fits; inside a fold it folds by images", async () => {
  await testBackend();
  const d = 6, { train } = data(40, 5, d);
  const m = new GaussianOneClass({ parts: [4, 2], threshold: "cv" });
  // two sources: each outer fold fits on one, whose parts' scales then fold by image
  const foldGroups = Array.from({ length: 40 }, (_, i) => (i < 20 ? 0 : 1));
  await m.fit(train, 40, d, { foldGroups });
  assert.equal(m.thresholdFrom, "cv");
  assert.ok(Number.isFinite(m.threshold));
  m.dispose();
  // one group cannot be cross-validated: said so
  const one = new GaussianOneClass({ threshold: "cv" });
  await assert.rejects(
    one.fit(train, 40, d, { foldGroups: new Array(40).fill(0) }),
    /at least 2 groups/,
  );
  one.dispose();
});

Deno.test("oneclass: a model saved before the fit settings were kept refits as its threshold was set", async () => {
  await testBackend();
  const d = 4, { train } = data(30, 5, d);
  const m = await new KnnOneClass({ neighbours: 3, threshold: "train", folds: 4, seed: 9 }).fit(
    train,
    30,
    d,
  );
  await withTempDir(async (dir) => {
    await m.save(dir, "oc");
    const file = `${dir}/oc.json`;
    const saved = JSON.parse(await Deno.readTextFile(file));
    assert.deepEqual(saved.fit, { threshold: "train", folds: 4, seed: 9 });
    delete saved.fit; // as written before 2026-12-05
    await Deno.writeTextFile(file, JSON.stringify(saved));
    const back = await loadOneClass(dir, "oc");
    const again = back.clone();
    assert.deepEqual([again.thresholdMode, again.folds, again.seed], ["train", 5, 0]);
    again.dispose();
    back.dispose();
  });
  m.dispose();
});

Deno.test("oneclass: a Gaussian with row weights is the weighted mean and Ledoit-Wolf covariance, both forms", async () => {
  await testBackend();
  // both forms: fewer dimensions than vectors (Cholesky of Σ) and more (Woodbury)
  for (const [n, d] of [[30, 4], [8, 12]]) {
    const r = new Rng(9 + d);
    const train = Float32Array.from({ length: n * d }, () => r.normal() + 0.5 * r.next());
    const test = Float32Array.from({ length: 3 * d }, () => 2 * r.normal());
    const w = Array.from({ length: n }, (_, i) => i < n / 4 ? 3 : 0.5);
    const m = await new GaussianOneClass({ norm: "none", threshold: "train" }).fit(train, n, d, {
      weights: w,
    });
    // explicit: each row counts n·wᵢ/Σw times in the mean and in S; δ from those centred rows
    const total = w.reduce((a, b) => a + b, 0), wn = w.map((v) => n * v / total);
    const mean = Array.from({ length: d }, (_, j) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += wn[i] * train[i * d + j];
      return s / n;
    });
    const z = {
      rows: n,
      cols: d,
      data: Float64Array.from({ length: n * d }, (_, k) => train[k] - mean[k % d]),
    };
    // Ledoit-Wolf written out, its noise term at the weights' effective size n² / Σ wn²
    let tr2 = 0, beta_ = 0;
    const S0 = Array.from({ length: d }, () => new Float64Array(d));
    for (let i = 0; i < n; i++) {
      let sq = 0;
      for (let a = 0; a < d; a++) {
        sq += z.data[i * d + a] ** 2;
        for (let b = 0; b < d; b++) S0[a][b] += wn[i] * z.data[i * d + a] * z.data[i * d + b] / n;
      }
      beta_ += wn[i] * sq * sq;
    }
    for (const row of S0) for (const v of row) tr2 += v * v;
    const mu0 = S0.reduce((t, row, a) => t + row[a], 0) / d;
    const size = n * n / wn.reduce((a, v) => a + v * v, 0);
    const dd = (tr2 - 2 * mu0 * mu0 * d + d * mu0 * mu0) / d;
    const delta = Math.min((beta_ / n - tr2) / (d * size), dd) / dd;
    assert.ok(size < n - 1, `effective size ${size} of ${n} rows`);
    // (the fitted mean is rounded to float32, as it is saved)
    assert.ok(Math.abs(m.shrinkage - delta) < 1e-6, `${m.shrinkage} vs ${delta}`);
    const S = Array.from({ length: d }, (_, a) =>
      Array.from({ length: d }, (_, b) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += wn[i] * z.data[i * d + a] * z.data[i * d + b];
        return s / n;
      }));
    const tr = S.reduce((s, row, i) => s + row[i], 0) / d;
    const inv = invert(
      S.map((row, i) => row.map((v, j) => (1 - delta) * v + (i === j ? delta * tr : 0))),
    );
    const raw = await m.scoreSamples(test, 3);
    for (let k = 0; k < 3; k++) {
      const y = Array.from({ length: d }, (_, j) => test[k * d + j] - mean[j]);
      const q = y.reduce((s, yi, i) => s + yi * inv[i].reduce((t, v, j) => t + v * y[j], 0), 0);
      assert.ok(Math.abs(raw[k] - q) <= 1e-3 * q, `n ${n}, d ${d}: ${raw[k]} vs ${q}`);
    }
    // the weights matter (the unweighted fit scores otherwise), and their scale does not
    const plain = await new GaussianOneClass({ norm: "none", threshold: "train" }).fit(train, n, d);
    const scaled = await new GaussianOneClass({ norm: "none", threshold: "train" }).fit(
      train,
      n,
      d,
      { weights: w.map((v) => 7 * v) },
    );
    const [p, s] = [await plain.scoreSamples(test, 3), await scaled.scoreSamples(test, 3)];
    assert.ok(p.some((v, k) => Math.abs(v - raw[k]) > 1e-3 * raw[k]), "weights changed nothing");
    s.forEach((v, k) => assert.ok(Math.abs(v - raw[k]) <= 1e-5 * raw[k], `${v} vs ${raw[k]}`));
  }
});

Deno.test("oneclass: threshold weights give the weighted quantile; weights are checked and refused where not taken", async () => {
  await testBackend();
  const d = 5, n = 60, { train } = data(n, 1, d, 3);
  const tw = Array.from({ length: n }, (_, i) => i % 3 ? 1 : 4);
  const m = await new GaussianOneClass({ threshold: "train" }).fit(train, n, d, {
    thresholdWeights: tw,
  });
  const raw = await m.scoreSamples(train, n);
  const want = weightedQuantile(raw, tw, 0.95);
  assert.ok(Math.abs(m.threshold - want) <= 1e-5 * want, `${m.threshold} vs ${want}`);
  assert.ok(Math.abs(m.threshold - quantile(raw, 0.95)) > 1e-4, "the weights changed nothing");
  // cv: the out-of-fold scores' weighted quantile, per image the mean of its rows' weights
  const groups = Array.from({ length: n }, (_, i) => Math.floor(i / 2));
  const cv = new GaussianOneClass({ threshold: "cv", seed: 2 });
  await cv.fit(train, n, d, { groups, thresholdWeights: tw });
  const oof = groupMeans(await cv.outOfFold(train, n, d, { groups }), groups);
  const want2 = weightedQuantile(oof, groupMeans(Float32Array.from(tw), groups), 0.95);
  assert.ok(Math.abs(cv.threshold - want2) <= 1e-5 * want2, `${cv.threshold} vs ${want2}`);
  // refused: a model whose fit takes no weights, bad weights, weights with a val threshold
  const knn = new KnnOneClass({ threshold: "train" });
  await assert.rejects(knn.fit(train, n, d, { weights: tw }), /knn one-class model cannot weigh/);
  knn.dispose();
  const g = () => new GaussianOneClass({ threshold: "train" });
  await assert.rejects(g().fit(train, n, d, { weights: tw.slice(1) }), /weights: expected 60/);
  await assert.rejects(
    g().fit(train, n, d, { thresholdWeights: tw.map((v, i) => i === 7 ? 0 : v) }),
    /thresholdWeights must be positive and finite, got 0 at row 7/,
  );
  await assert.rejects(
    new GaussianOneClass({ pca: 2 }).fit(train, n, d, { weights: tw }),
    /pca takes no row weights/,
  );
  await assert.rejects(
    new GaussianOneClass({ threshold: "val" }).fit(train, n, d, {
      validation: { x: train, n },
      thresholdWeights: tw,
    }),
    /threshold val takes no threshold weights/,
  );
});

/** Out-of-fold scores by hand: each row its own group, the folds drawn as `cv` draws them. */
async function handOutOfFold(x: Float32Array, n: number, d: number, w: number[], seed: number) {
  const order = new Rng(`oneclass-folds:${seed}`).shuffle(Array.from({ length: n }, (_, i) => i));
  const foldOf = new Map(order.map((g, i) => [g, i % 5]));
  const out = new Float32Array(n);
  for (let f = 0; f < 5; f++) {
    const fit = [...Array(n).keys()].filter((i) => foldOf.get(i) !== f);
    const held = [...Array(n).keys()].filter((i) => foldOf.get(i) === f);
    const pick = (idx: number[]) =>
      Float32Array.from(idx.flatMap((i) => [...x.subarray(i * d, (i + 1) * d)]));
    const m = await new GaussianOneClass({ threshold: "train" }).fit(pick(fit), fit.length, d, {
      weights: fit.map((i) => w[i]),
    });
    (await m.scoreSamples(pick(held), held.length)).forEach((v, k) => out[held[k]] = v);
  }
  return out;
}

Deno.test("oneclass: fit weights reach every fold of the cv threshold and every part's scale", async () => {
  await testBackend();
  const d = 5, n = 50, { train, inliers } = data(n, 4, d, 5);
  const w = Array.from({ length: n }, (_, i) => i < 10 ? 5 : 1);
  const tw = Array.from({ length: n }, (_, i) => i % 4 ? 1 : 3);
  // cv: the quantile of scores from folds fitted with their rows' weights
  const cv = await new GaussianOneClass({ threshold: "cv", seed: 3 }).fit(train, n, d, {
    weights: w,
    thresholdWeights: tw,
  });
  const oof = await handOutOfFold(train, n, d, w, 3);
  const want = weightedQuantile(oof, tw, 0.95);
  assert.ok(Math.abs(cv.threshold - want) <= 1e-5 * want, `${cv.threshold} vs ${want}`);
  // parts: the check part's scale is the weighted quantile of its own out-of-fold distances,
  // from folds fitted with the weights; its score is its distance over that scale, minus 1
  const cols = (x: Float32Array, k: number) =>
    Float32Array.from({ length: k * 2 }, (_, i) => x[Math.floor(i / 2) * d + 3 + (i % 2)]);
  const parts = await new GaussianOneClass({
    threshold: "cv",
    seed: 3,
    parts: [3, 2],
    partNames: ["a", "b"],
    checks: ["b"],
  }).fit(train, n, d, { weights: w, thresholdWeights: tw });
  const alone = await new GaussianOneClass({ threshold: "train" }).fit(cols(train, n), n, 2, {
    weights: w,
  });
  const scale = weightedQuantile(await handOutOfFold(cols(train, n), n, 2, w, 3), tw, 0.95);
  const dist = await alone.scoreSamples(cols(inliers, 4), 4);
  const got = parts.partScores(inliers, 4).b;
  got.forEach((v, k) => {
    const q = dist[k] / scale - 1;
    assert.ok(Math.abs(v - q) <= 1e-4 * Math.max(1, Math.abs(q)), `${v} vs ${q}`);
  });
});
