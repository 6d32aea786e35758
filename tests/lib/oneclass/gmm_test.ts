import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Rng } from "../../../lib/core/rng.ts";
import { ModelError } from "../../../lib/core/errors.ts";
import { GaussianOneClass } from "../../../lib/oneclass/gauss.ts";
import { MixtureOneClass } from "../../../lib/oneclass/gmm.ts";
import { loadOneClass } from "../../../lib/oneclass/io.ts";
import { withTempDir } from "../../_helpers.ts";

/** `n` rows of dimension `d`: a correlated Gaussian around `centre` (a shift on every column). */
function cloud(n: number, d: number, centre: number, r: Rng, spread = 1): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const shared = r.normal();
    for (let j = 0; j < d; j++) out[i * d + j] = centre + spread * (0.6 * shared + r.normal());
  }
  return out;
}

function joined(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

/** A saved mixture's parameters, read from its files (not through the model). */
async function savedMixture(dir: string) {
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/oneclass.json`));
  const bin = new Float32Array((await Deno.readFile(`${dir}/oneclass.bin`)).buffer);
  const arrays = new Map<string, Float32Array>();
  let at = 0;
  for (const w of meta.weightsManifest[0].weights as { name: string; shape: number[] }[]) {
    const size = w.shape.reduce((p, k) => p * k, 1);
    arrays.set(w.name, bin.subarray(at, at += size));
  }
  return {
    w: arrays.get("gmm/weights")!,
    mu: arrays.get("gmm/means")!,
    L: arrays.get("gmm/chol")!,
  };
}

/**
 * Component k's squared Mahalanobis distance of v and log |Σ_k|, through its Cholesky factor L_k
 * (Σ_k = L_k L_kᵀ), by forward substitution.
 */
function whitened(
  { mu, L }: { mu: Float32Array; L: Float32Array },
  d: number,
  k: number,
  v: Float32Array,
): { q: number; logdet: number } {
  const y: number[] = [];
  let logdet = 0, q = 0;
  for (let i = 0; i < d; i++) {
    let s = v[i] - mu[k * d + i];
    for (let j = 0; j < i; j++) s -= L[k * d * d + i * d + j] * y[j];
    y.push(s / L[k * d * d + i * d + i]);
    q += y[i] ** 2;
    logdet += 2 * Math.log(L[k * d * d + i * d + i]);
  }
  return { q, logdet };
}

Deno.test("gmm: with one component the score is the Gaussian's squared Mahalanobis distance", async () => {
  const r = new Rng(3), d = 5, x = cloud(120, d, 0, r), q = cloud(30, d, 0.5, r, 2);
  const o = { threshold: "train" as const, seed: 1 };
  const g = await new GaussianOneClass(o).fit(x, 120, d);
  const m = await new MixtureOneClass({ ...o, components: 1 }).fit(x, 120, d);
  assert.equal(m.fitted, 1);
  const a = await g.scoreSamples(q, 30), b = await m.scoreSamples(q, 30);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-4 * v, `row ${i}: ${v} vs ${b[i]}`));
  assert.ok(Math.abs(g.threshold - m.threshold) <= 1e-4 * g.threshold);
});

Deno.test("gmm: two populations get a component each, and the gap between them is outside", async () => {
  // photographs of two histories, far apart: one Gaussian's ellipsoid takes in the gap between
  // them, the mixture does not
  const r = new Rng(5), d = 4;
  const x = joined(cloud(150, d, -6, r), cloud(100, d, 6, r));
  const gap = cloud(20, d, 0, r), near = joined(cloud(10, d, -6, r), cloud(10, d, 6, r));
  const o = { threshold: "cv" as const, seed: 2 };
  const m = await new MixtureOneClass({ ...o, components: 2 }).fit(x, 250, d);
  const g = await new GaussianOneClass(o).fit(x, 250, d);
  assert.equal(m.fitted, 2);
  assert.deepEqual(m.weights.map((w) => Math.round(w * 250)).sort((a, b) => a - b), [100, 150]);
  const sum = (p: Uint8Array) => p.reduce((s, v) => s + v, 0);
  assert.equal(sum(await m.predict(gap, 20)), 20, "the mixture flags the gap");
  assert.ok(sum(await m.predict(near, 20)) <= 3, "and keeps new members of both populations");
  assert.ok(sum(await g.predict(gap, 20)) <= 2, "one Gaussian calls the gap natural");
});

Deno.test("gmm: the score is -2 log p(x) less its bound, p the weighted sum of the components", async () => {
  // unequal populations, so that the weights matter; p computed here from the saved parameters
  const r = new Rng(8), d = 3, x = joined(cloud(70, d, -5, r), cloud(30, d, 5, r, 2));
  const m = await new MixtureOneClass({ components: 2, threshold: "train", norm: "none" })
    .fit(x, 100, d);
  await withTempDir(async (dir) => {
    await m.save(dir);
    const saved = await savedMixture(dir), { w, mu } = saved;
    assert.ok(Math.abs(w[0] + w[1] - 1) < 1e-6 && Math.min(w[0], w[1]) < 0.4);
    // log N_k(x) less d/2 log 2π
    const logN = (k: number, v: Float32Array) => {
      const { q, logdet } = whitened(saved, d, k, v);
      return -0.5 * (q + logdet);
    };
    const peak = (k: number) => logN(k, mu.subarray(k * d, (k + 1) * d));
    const bound = -2 * Math.log(w[0] * Math.exp(peak(0)) + w[1] * Math.exp(peak(1)));
    const q = cloud(12, d, 0, r, 4), got = await m.scoreSamples(q, 12);
    for (let i = 0; i < 12; i++) {
      const v = q.subarray(i * d, (i + 1) * d);
      const p = w[0] * Math.exp(logN(0, v)) + w[1] * Math.exp(logN(1, v));
      const want = -2 * Math.log(p) - bound;
      assert.ok(want > 0, `row ${i}: the bound is below every score`);
      assert.ok(
        Math.abs(got[i] - want) <= 1e-4 * Math.max(1, want),
        `row ${i}: ${got[i]} vs ${want}`,
      );
    }
  });
});

Deno.test("gmm: the same seed fits the same model; settings and too few vectors are refused", async () => {
  const r = new Rng(9),
    d = 3,
    x = joined(cloud(60, d, -4, r), cloud(60, d, 4, r), cloud(40, d, 12, r));
  const fit = (seed: number) =>
    new MixtureOneClass({ components: 3, seed, threshold: "train" }).fit(x, 160, d);
  const [a, b] = [await fit(4), await fit(4)];
  assert.deepEqual(await a.scoreSamples(x, 160), await b.scoreSamples(x, 160));
  assert.ok(a.steps >= 2 && a.steps <= a.iterations);
  assert.throws(() => new MixtureOneClass({ components: 0 }), /components must be a positive/);
  assert.throws(() => new MixtureOneClass({ iterations: 1.5 }), /iterations must be a positive/);
  await assert.rejects(
    new MixtureOneClass({ components: 4 }).fit(x.subarray(0, 7 * d), 7, d),
    /mixture of 4 Gaussians needs at least 8 vectors, got 7/,
  );
  await assert.rejects(new MixtureOneClass().scoreSamples(x, 160), ModelError);
});

Deno.test("gmm: a saved model with a broken component is refused by name", async () => {
  // 37 and 61 vectors: weights float32 cannot hold exactly, so a loaded model scoring the same
  // shows the saved weights are the ones it scores with
  const r = new Rng(2), d = 3, x = joined(cloud(37, d, -5, r), cloud(61, d, 5, r));
  const m = await new MixtureOneClass({ components: 2, threshold: "train" }).fit(x, 98, d);
  await withTempDir(async (dir) => {
    await m.save(dir);
    const back = await loadOneClass(dir);
    assert.equal(back.kind, "gmm");
    const q = cloud(3000, d, 0, r, 6); // many scores, so that a float64 weight would show
    assert.deepEqual(await back.scoreSamples(q, 3000), await m.scoreSamples(q, 3000));
    // a zero weight, with the checksum rewritten so that only the content check can catch it
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/oneclass.json`));
    const bin = await Deno.readFile(`${dir}/oneclass.bin`);
    let offset = 0;
    for (const w of meta.weightsManifest[0].weights as { name: string; shape: number[] }[]) {
      if (w.name === "gmm/weights") break;
      offset += 4 * w.shape.reduce((p, k) => p * k, 1);
    }
    new DataView(bin.buffer).setFloat32(offset, 0, true);
    await Deno.writeFile(`${dir}/oneclass.bin`, bin);
    meta.sha256 = createHash("sha256").update(bin).digest("hex");
    await Deno.writeTextFile(`${dir}/oneclass.json`, JSON.stringify(meta));
    await assert.rejects(loadOneClass(dir), /bad mixture component 0/);
  });
});

Deno.test("gmm nearest: the distance to the nearest component under its own covariance; components under d vectors' worth dropped; saved and loaded", async () => {
  // two populations and, far off, two stray vectors: fewer than d = 3 vectors' worth
  const r = new Rng(11), d = 3;
  const x = joined(cloud(100, d, -6, r), cloud(80, d, 6, r, 2), cloud(2, d, 40, r));
  const o = { components: 3, threshold: "train" as const, norm: "none" as const, seed: 3 };
  const density = await new MixtureOneClass(o).fit(x, 182, d);
  const nearest = await new MixtureOneClass({ ...o, scoring: "nearest" }).fit(x, 182, d);
  assert.equal(density.fitted, 3, "the density form keeps a component of two vectors");
  assert.equal(nearest.fitted, 2, "the nearest form drops it");
  await withTempDir(async (dir) => {
    await nearest.save(dir);
    const saved = await savedMixture(dir);
    // squared Mahalanobis distance to component k
    const dist = (k: number, v: Float32Array) => whitened(saved, d, k, v).q;
    const q = cloud(20, d, 0, r, 5), got = await nearest.scoreSamples(q, 20);
    for (let i = 0; i < 20; i++) {
      const v = q.subarray(i * d, (i + 1) * d), want = Math.min(dist(0, v), dist(1, v));
      assert.ok(
        Math.abs(got[i] - want) <= 1e-4 * Math.max(1, want),
        `row ${i}: ${got[i]} vs ${want}`,
      );
    }
    const back = await loadOneClass(dir);
    assert.equal((back as MixtureOneClass).scoring, "nearest");
    assert.deepEqual(await back.scoreSamples(q, 20), got);
  });
  // with one component it is the Gaussian's distance, as the density form is
  const y = cloud(120, d, 0, r), t = cloud(30, d, 0.5, r, 2);
  const g = await new GaussianOneClass({ threshold: "train", seed: 1 }).fit(y, 120, d);
  const one = await new MixtureOneClass({
    threshold: "train",
    seed: 1,
    components: 1,
    scoring: "nearest",
  })
    .fit(y, 120, d);
  const a = await g.scoreSamples(t, 30), b = await one.scoreSamples(t, 30);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-4 * v, `row ${i}: ${v} vs ${b[i]}`));
  assert.throws(
    () => new MixtureOneClass({ scoring: "far" as "nearest" }),
    /scoring must be density or nearest/,
  );
});

Deno.test("gmm: EM runs until the likelihood settles, so the means are a fixed point of its M step", async () => {
  // one correlated cloud cut into 8 by the k-means++ starts: with shrunk covariances the
  // likelihood may fall between two steps, which is not convergence
  const r = new Rng(1), d = 10, n = 300, x = cloud(n, d, 0, r);
  const m = await new MixtureOneClass({
    components: 8,
    scoring: "nearest",
    threshold: "train",
    seed: 1,
    norm: "none",
  }).fit(x, n, d);
  await withTempDir(async (dir) => {
    await m.save(dir);
    const saved = await savedMixture(dir), { w, mu } = saved, K = w.length;
    // log πₖ N_k(x) less d/2 log 2π
    const logpN = (k: number, v: Float32Array) => {
      const { q, logdet } = whitened(saved, d, k, v);
      return Math.log(w[k]) - 0.5 * (q + logdet);
    };
    // one more E step from the saved parameters, then the M step's means
    const sums = Array.from({ length: K }, () => new Float64Array(d)), mass = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      const v = x.subarray(i * d, (i + 1) * d),
        l = Array.from({ length: K }, (_, k) => logpN(k, v));
      const top = Math.max(...l), p = l.map((u) => Math.exp(u - top));
      const total = p.reduce((a, b) => a + b, 0);
      for (let k = 0; k < K; k++) {
        mass[k] += p[k] / total;
        for (let j = 0; j < d; j++) sums[k][j] += (p[k] / total) * v[j];
      }
    }
    let drift = 0;
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < d; j++) {
        drift = Math.max(drift, Math.abs(sums[k][j] / mass[k] - mu[k * d + j]));
      }
    }
    assert.ok(m.steps > 2, `${m.steps} steps`);
    assert.ok(drift < 0.05, `the means move by ${drift} in one more step`);
  });
});

Deno.test("gmm kmeans: a partition whose parts are their vectors' means, each of at least d vectors; saved and loaded", async () => {
  const r = new Rng(12), d = 3;
  const x = joined(cloud(100, d, -8, r), cloud(80, d, 8, r), cloud(2, d, 40, r));
  const n = 182, o = { threshold: "train" as const, norm: "none" as const, seed: 5 };
  // two clouds and two strays: K = 2 gives the two clouds, the strays with the nearer one
  const two = await new MixtureOneClass({ ...o, components: 2, fitBy: "kmeans" }).fit(x, n, d);
  assert.deepEqual(two.weights.map((w) => Math.round(w * n)).sort((a, b) => a - b), [82, 100]);
  // K = 6: the strays' part is dropped (2 < d = 3), the others split the clouds
  const m = await new MixtureOneClass({ ...o, components: 6, fitBy: "kmeans", scoring: "nearest" })
    .fit(x, n, d);
  assert.ok(m.fitted >= 2 && m.fitted <= 5, `${m.fitted} parts`);
  for (const w of m.weights) assert.ok(w * n >= d - 1e-6, `a part of ${w * n} vectors`);
  await withTempDir(async (dir) => {
    await m.save(dir);
    const { w, mu } = await savedMixture(dir);
    // Lloyd's fixed point: each vector's nearest mean is its part's, and each mean is the mean of
    // the vectors nearest to it, its weight their share
    const K = w.length, sums = Array.from({ length: K }, () => new Float64Array(d));
    const count = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      let best = 0, bestSq = Infinity;
      for (let k = 0; k < K; k++) {
        let sq = 0;
        for (let j = 0; j < d; j++) sq += (x[i * d + j] - mu[k * d + j]) ** 2;
        if (sq < bestSq) [best, bestSq] = [k, sq];
      }
      count[best]++;
      for (let j = 0; j < d; j++) sums[best][j] += x[i * d + j];
    }
    for (let k = 0; k < K; k++) {
      assert.ok(Math.abs(count[k] / n - w[k]) < 1e-6, `part ${k}: weight ${w[k]}`);
      for (let j = 0; j < d; j++) {
        assert.ok(Math.abs(sums[k][j] / count[k] - mu[k * d + j]) < 1e-4, `part ${k}, column ${j}`);
      }
    }
    const back = await loadOneClass(dir) as MixtureOneClass;
    assert.equal(back.fitBy, "kmeans");
    assert.equal(back.scoring, "nearest");
    // the cross-validated threshold fits clones: they keep both settings
    const twin = m.clone();
    assert.equal(twin.fitBy, "kmeans");
    assert.equal(twin.scoring, "nearest");
    const q = cloud(10, d, 0, r, 6);
    assert.deepEqual(await back.scoreSamples(q, 10), await m.scoreSamples(q, 10));
  });
  assert.throws(() => new MixtureOneClass({ fitBy: "tree" as "em" }), /fit must be em or kmeans/);
});

Deno.test("gmm: fewer vectors than a component needs keep the heaviest; a model saved before scoring and fit existed loads as density and EM", async () => {
  const r = new Rng(13), d = 10;
  // 8 vectors of dimension 10: no component can hold d vectors' worth, the heaviest stays
  const few = cloud(8, d, 0, r);
  for (const fitBy of ["em", "kmeans"] as const) {
    const m = await new MixtureOneClass({
      components: 2,
      scoring: "nearest",
      fitBy,
      threshold: "train",
    })
      .fit(few, 8, d);
    assert.equal(m.fitted, 1, fitBy);
    assert.ok((await m.scoreSamples(cloud(5, d, 1, r), 5)).every(Number.isFinite), fitBy);
  }
  const x = joined(cloud(60, 3, -5, r), cloud(40, 3, 5, r));
  const m = await new MixtureOneClass({ components: 2, threshold: "train" }).fit(x, 100, 3);
  await withTempDir(async (dir) => {
    await m.save(dir);
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/oneclass.json`));
    assert.equal(meta.settings.scoring, "density");
    assert.equal(meta.settings.fitBy, "em");
    delete meta.settings.scoring; // as saved before the two settings existed
    delete meta.settings.fitBy;
    await Deno.writeTextFile(`${dir}/oneclass.json`, JSON.stringify(meta));
    const back = await loadOneClass(dir) as MixtureOneClass;
    assert.equal(back.scoring, "density");
    assert.equal(back.fitBy, "em");
    const q = cloud(20, 3, 0, r, 4);
    assert.deepEqual(await back.scoreSamples(q, 20), await m.scoreSamples(q, 20));
  });
});
