/**
 * Leave one source out keeps the held-out source out of every fit and threshold: a source of
 * blurred photographs, unlike every other, is flagged when held out (it would sit inside a
 * threshold set with it), while ordinary photographs held out are not; every source is held
 * out once, and the renders are scored, never fitted.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseCsvRecords } from "../../../lib/data/csv.ts";
import { type Dataset, loadDataset } from "../../../lib/data/dataset.ts";
import { readImage } from "../../../lib/data/decode.ts";
import { gaussianBlur } from "../../../lib/data/perturb.ts";
import { encodePng } from "../../../lib/data/png.ts";
import {
  fusedParts,
  loso,
  type LosoBalance,
  losoMarkdown,
  type LosoOptions,
} from "../../../lib/eval/loso.ts";
import { makeProgress } from "../../../lib/core/progress.ts";
import { Detector, fusedScore, loadDetector } from "../../../lib/detect/detector.ts";
import { PROFILE_DIM } from "../../../lib/features/profile.ts";
import { wholeImageFeatures } from "../../../lib/features/sources.ts";
import { rows as rowsAt } from "../../../lib/oneclass/estimator.ts";
import { createOneClass } from "../../../lib/oneclass/io.ts";
import { resolveSettings } from "../../../lib/oneclass/train.ts";
import { type HeadModel, makeHead } from "../../../lib/head/heads.ts";
import { rocAuc } from "../../../lib/eval/metrics.ts";
import { SHIPPED, testBackend, withTempDir } from "../../_helpers.ts";

/** The log line of a LOSO run that checked `n` images from their headers only. */
const VOUCHED = (n: number) =>
  `${n} image(s) with every source's vectors cached from the same file: checked from their ` +
  `headers (decoded only where that fails)`;

/** A corpus CSV of `photos`, the i-th in source `sourceOf(i)`, written in `dir`. */
async function photosCsv(dir: string, photos: { name: string }[], sourceOf: (i: number) => string) {
  const csv = join(dir, "natural.csv");
  const rows = photos.map((p, i) => `${p.name},0,${sourceOf(i)}`);
  await Deno.writeTextFile(csv, ["Name,Label,Group", ...rows].join("\n") + "\n");
  return csv;
}

/**
 * A CSV of the first `k` renders of each renderer of `ds` (and one photograph: a dataset has
 * photographs too; the renders' photographs are not used), written in `dir`.
 */
async function someRenders(ds: Dataset, dir: string, k: number) {
  const photo = ds.images.find((i) => i.label === 0)!;
  const picked = ds.classes.filter((c) => c.label > 0).flatMap((c) =>
    ds.images.filter((r) => r.label === c.label).slice(0, k)
  );
  const rcsv = join(dir, "renders.csv");
  const rows = [`${photo.name},0`, ...picked.map((r) => `${r.name},${r.label}`)];
  await Deno.writeTextFile(rcsv, ["Name,Label", ...rows].join("\n") + "\n");
  return { rcsv, picked };
}

Deno.test("loso: the held-out source is in no fit or threshold; every source is held out once", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const ds = await loadDataset(SHIPPED);
    const photos = ds.images.filter((i) => i.label === 0);
    // the corpus: two sources of shipped photographs, and one of blurred photographs
    const rows: string[] = [];
    for (const g of ["even", "odd", "blurred"]) {
      await Deno.mkdir(join(dir, "natural", g), { recursive: true });
    }
    for (const [i, p] of photos.slice(0, 40).entries()) {
      const g = i >= 32 ? "blurred" : i % 2 ? "odd" : "even";
      const name = `${g}/${p.name.split("/").pop()}`;
      if (g === "blurred") {
        const img = gaussianBlur(await readImage(p.path), 3);
        await Deno.writeFile(join(dir, "natural", name), await encodePng({ ...img, channels: 3 }));
      } else await Deno.copyFile(p.path, join(dir, "natural", name));
      rows.push(`${name},0,${g}`);
    }
    await Deno.writeTextFile(
      join(dir, "natural", "dataset.csv"),
      ["Name,Label,Group", ...rows].join("\n") + "\n",
    );
    // renders: a few of each renderer
    const { rcsv } = await someRenders(ds, dir, 4);
    /** The Gaussian's LOSO of these sources against these renders (`extra`: its name, a cache). */
    const run = (extra: Partial<LosoOptions> = {}) =>
      loso({
        natural: join(dir, "natural"),
        renders: SHIPPED,
        rendersCsv: rcsv,
        kinds: ["gauss"],
        minImages: 8,
        runs: dir,
        progress: makeProgress({ quiet: true }),
        ...extra,
      });
    const r = await run();
    const rows2 = r.cells[0].rows;
    assert.deepEqual(rows2.map((x) => [x.source, x.images]), [["blurred", 8], ["even", 16], [
      "odd",
      16,
    ]]);
    const by = Object.fromEntries(rows2.map((x) => [x.source, x]));
    // held out, the blurred photographs are outside what the other sources define
    assert.ok(by.blurred.recall <= 0.25, `blurred recall ${by.blurred.recall}`);
    assert.ok(by.even.recall >= 0.6 && by.odd.recall >= 0.6, JSON.stringify(rows2));
    assert.deepEqual(r.renderers.map((x) => x.images), [4, 4, 4]);
    for (const x of rows2) assert.deepEqual(Object.keys(x.auc), r.renderers.map((y) => y.name));
    // what each source's model calls the renders: shares that sum to one, and their means
    for (const x of rows2) {
      for (const c of Object.values(x.calls!)) {
        assert.ok(Math.abs(c.cg + c.unsure + c.natural - 1) < 1e-12, JSON.stringify(c));
        assert.ok([c.cg, c.unsure, c.natural].every((v) => v * 4 === Math.round(v * 4)));
      }
    }
    for (const y of r.renderers) {
      const s = r.cells[0].renderers![y.name];
      const big = rows2.filter((x) => x.images >= 8);
      const m = big.reduce((a, x) => a + x.calls![y.name].cg, 0) / big.length;
      assert.ok(Math.abs(s.cg - m) < 1e-12);
      assert.equal(s.worstAuc, Math.min(...big.map((x) => x.auc[y.name])));
    }
    assert.match(losoMarkdown(r), /\| residual \| gauss \| Cycles \| [0-9.]+ \| [0-9.]+ \|/);
    // the summary is over the sources with at least minImages photographs
    assert.equal(r.cells[0].worst.recall, Math.min(...rows2.map((x) => x.recall)));
    assert.match(await Deno.readTextFile(join(r.dir, "results.md")), /\| blurred \| 8 \|/);
    // scores.csv: each held-out photograph once, by its source's model; its recall is theirs
    const scores = parseCsvRecords(await Deno.readTextFile(join(r.dir, "scores.csv")))
      .map((x) => x.fields);
    assert.deepEqual(scores[0], [
      "features",
      "model",
      "source",
      "image",
      "score",
      "checks",
      "call",
    ]);
    assert.deepEqual(
      scores.slice(1).map((s) => s[3]).sort(),
      rows.map((x) => x.split(",")[0]).sort(),
    );
    for (const x of rows2) {
      const mine = scores.slice(1).filter((s) => s[2] === x.source);
      assert.ok(mine.every((s) => s[3].startsWith(`${x.source}/`) && s[1] === "gauss"));
      const kept = mine.filter((s) => Number(s[4]) <= 0 && s[5] === "").length / mine.length;
      assert.ok(Math.abs(kept - x.recall) < 1e-12, `${x.source}: ${kept} vs ${x.recall}`);
      assert.ok(mine.every((s) => ["natural", "unsure", "computer-generated"].includes(s[6])));
    }
    assert.equal(r.cells[0].threshold, "cv"); // the Gaussian's own
    assert.equal(r.heldOut, "all");
    assert.doesNotMatch(losoMarkdown(r), /only they were held out/);
    assert.match(
      losoMarkdown({ ...r, heldOut: "big" }),
      /which make mean and worst, and only they were held out/,
    );
    // another run reuses this one's features: offered image by image, the lists assembled from
    // them, the source left alone
    const cached = join(r.dir, "features");
    /** A progress that keeps the log lines of a run (where its vectors came from). */
    const kept = (lines: string[]) => ({
      start() {},
      tick() {},
      end() {},
      log: (line: string) => void lines.push(line),
    });
    /** Each cached file's name and modification time. */
    const stamps = () =>
      Promise.all(
        [...Deno.readDirSync(cached)].map(async (e) => [
          e.name,
          (await Deno.stat(join(cached, e.name))).mtime,
        ]),
      );
    const before = await stamps();
    const againLog: string[] = [];
    const again = await run({ name: "again", featureCache: cached, progress: kept(againLog) });
    assert.deepEqual(again.cells[0].rows, r.cells[0].rows);
    for (const list of ["natural-residual", "renders-residual"]) {
      assert.ok(againLog.some((l) => l.startsWith(`${list}: `) && /from the cache/.test(l)), list);
    }
    assert.ok(againLog.some((l) => /^residual: 2 cached list\(s\)/.test(l)), againLog.join("\n"));
    const after = await stamps();
    assert.deepEqual(after, before);
    // every image's vectors cached from the same file: none decoded again to check it
    assert.ok(againLog.includes(VOUCHED(52)), againLog.join("\n"));
    // a photograph replaced by a broken file under the same name is not vouched for: decoded,
    // named and skipped as without a cache
    const natural2 = join(dir, "natural2");
    await Deno.mkdir(natural2);
    await Deno.copyFile(join(dir, "natural", "dataset.csv"), join(natural2, "dataset.csv"));
    for (const g of ["even", "odd", "blurred"]) {
      await Deno.mkdir(join(natural2, g));
      for (const e of Deno.readDirSync(join(dir, "natural", g))) {
        await Deno.copyFile(join(dir, "natural", g, e.name), join(natural2, g, e.name));
      }
    }
    const broken = rows[0].split(",")[0];
    const bytes = await Deno.readFile(join(natural2, broken));
    await Deno.writeFile(join(natural2, broken), bytes.subarray(0, 100));
    const brokenLog: string[] = [];
    const withBroken = await run({
      name: "broken",
      natural: natural2,
      featureCache: cached,
      progress: kept(brokenLog),
    });
    assert.ok(brokenLog.includes(VOUCHED(51)), brokenLog.join("\n"));
    assert.deepEqual(withBroken.skipped, [join(natural2, broken)]);
    assert.match(
      await Deno.readTextFile(join(withBroken.dir, "skipped-natural.txt")),
      new RegExp(broken),
    );
    // an unsure band sized on the photographs moves no threshold: the same recall and AUC
    const sized = await run({ name: "sized", featureCache: cached, unsureShare: 0.04 });
    assert.deepEqual(
      sized.cells[0].rows.map((x) => [x.recall, x.auc, x.threshold]),
      r.cells[0].rows.map((x) => [x.recall, x.auc, x.threshold]),
    );
    assert.equal(sized.unsureShare, 0.04);
    // and it is what each source's model judges with, in place of `unsure`: the widest band (2ν)
    // calls more of the held-out photographs unsure than no band at all
    const unsureCalls = async (o: Partial<LosoOptions>) => {
      const x = await run({ featureCache: cached, ...o });
      return (await Deno.readTextFile(join(x.dir, "scores.csv"))).split("\n")
        .filter((l) => l.endsWith(",unsure")).length;
    };
    const [noBand, widest] = [
      await unsureCalls({ name: "band-none", unsure: 0 }),
      await unsureCalls({ name: "band-widest", unsure: 0, unsureShare: 0.1 }),
    ];
    assert.ok(widest > noBand, `unsure calls: ${widest} with the widest band, ${noBand} with none`);
    assert.match(losoMarkdown(sized), /unsure band 0\.04 of the natural reference/);
    await assert.rejects(run({ name: "too-wide", unsureShare: 0.2 }), /unsure-share.*\(0, 0\.1\]/);
    assert.ok(!(await Deno.stat(join(dir, "too-wide")).catch(() => undefined)));
    // each source weighing alike: in the threshold only, the same fits (the same AUC) and other
    // thresholds (two of the three fits hold sources of 16 and 8); in the fit too, other AUCs
    const byThreshold = await run({ name: "bal-t", featureCache: cached, balance: "threshold" });
    const bySource = await run({ name: "bal-s", featureCache: cached, balance: "source" });
    const col = (x: typeof r, k: "auc" | "threshold") => x.cells[0].rows.map((y) => y[k]);
    assert.deepEqual(col(byThreshold, "auc"), col(r, "auc"));
    assert.notDeepEqual(col(byThreshold, "threshold"), col(r, "threshold"));
    assert.notDeepEqual(col(bySource, "auc"), col(r, "auc"));
    assert.deepEqual([r.balance, byThreshold.balance, bySource.balance], [
      undefined,
      "threshold",
      "source",
    ]);
    assert.match(losoMarkdown(bySource), /each source weighing alike in the fit and the threshold/);
    // in the fit only: bySource's fits (its AUCs), the threshold's quantile unweighted
    const byFit = await run({ name: "bal-f", featureCache: cached, balance: "fit" });
    assert.deepEqual(col(byFit, "auc"), col(bySource, "auc"));
    assert.notDeepEqual(col(byFit, "threshold"), col(bySource, "threshold"));
    assert.equal(byFit.balance, "fit");
    assert.match(losoMarkdown(byFit), /alike in the fit \(the threshold unweighted\)/);
    await assert.rejects(
      run({ name: "bal-bad", balance: "images" as LosoBalance }),
      /balance must be none, threshold, source, fit/,
    );
    assert.ok(!(await Deno.stat(join(dir, "bal-bad")).catch(() => undefined)));
    await assert.rejects(
      run({ name: "bal-knn", kinds: ["gauss", "knn"], balance: "source" }),
      /balance source weighs the fit: the Gaussian's only/,
    );
    await assert.rejects(
      run({ name: "bal-knn-f", kinds: ["gauss", "knn"], balance: "fit" }),
      /balance fit weighs the fit: the Gaussian's only/,
    );
    assert.ok(!(await Deno.stat(join(dir, "bal-knn")).catch(() => undefined)));
    // fused sources: each source's vectors computed once (residual's from the cache), side by
    // side; the blurred source is still flagged; no fused list is cached, only its parts (the
    // ones computed here)
    const fusedLog: string[] = [];
    const fused = await run({
      name: "fused",
      features: ["profile", "residual+profile"],
      featureCache: cached,
      progress: kept(fusedLog),
    });
    assert.deepEqual(fused.cells.map((c) => c.features), ["profile", "residual+profile"]);
    const fb = Object.fromEntries(fused.cells[1].rows.map((x) => [x.source, x]));
    assert.ok(fb.blurred.recall <= 0.25, `fused: blurred recall ${fb.blurred.recall}`);
    assert.ok(fb.even.recall >= 0.6 && fb.odd.recall >= 0.6, JSON.stringify(fb));
    assert.deepEqual(
      [...Deno.readDirSync(join(fused.dir, "features"))].map((e) => e.name).sort(),
      [
        ...["natural-profile", "renders-profile"].flatMap((k) => [`${k}.bin`, `${k}.json`]),
        "shards", // residual's vectors: the other run's lists, adopted as slices
      ],
    );
    assert.match(losoMarkdown(fused), /## gauss on residual\+profile/);
    // residual came from the other run's cache, profile was computed
    assert.ok(fusedLog.some((l) => /^natural-residual: .*from the cache/.test(l)));
    assert.ok(!fusedLog.some((l) => /^natural-profile: .*from the cache/.test(l)));
    // other renders (three of each renderer, not four), from two runs that themselves took their
    // residual vectors from the first run's cache (they keep them as slices only): no list of
    // theirs is this run's, but together they hold every vector it needs; the same figures as a
    // run that computes them all
    const { rcsv: fewer } = await someRenders(ds, dir, 3);
    const offeredLog: string[] = [];
    const offered = await run({
      name: "offered",
      rendersCsv: fewer,
      featureCache: [join(fused.dir, "features"), join(again.dir, "features")],
      progress: kept(offeredLog),
    });
    assert.ok(offeredLog.some((l) => /^renders-residual: 9 vectors from the cache/.test(l)));
    const computedHere = await run({ name: "computed", rendersCsv: fewer });
    assert.deepEqual(offered.cells[0].rows, computedHere.cells[0].rows);
    // processed copies join the fits: blurred copies of the other sources bring the blurred
    // source inside; copies identical to their photographs (noise 0) do not, since a source's own
    // copies never join the fit that holds it out; copies are never scored
    const blurred = await run({ name: "copies-blur", naturalCopies: "blur:3" });
    const bb = Object.fromEntries(blurred.cells[0].rows.map((x) => [x.source, x]));
    assert.ok(bb.blurred.recall >= 0.75, `blurred copies: blurred recall ${bb.blurred.recall}`);
    assert.deepEqual(blurred.cells[0].rows.map((x) => x.images), [8, 16, 16]);
    assert.equal(blurred.naturalCopies, "blur:3");
    assert.match(losoMarkdown(blurred), /a copy of each of its photographs processed as blur:3/);
    const same = await run({ name: "copies-same", naturalCopies: "noise:0" });
    const sb = Object.fromEntries(same.cells[0].rows.map((x) => [x.source, x]));
    assert.ok(sb.blurred.recall <= 0.25, `identical copies: blurred recall ${sb.blurred.recall}`);
    await assert.rejects(run({ name: "bad", naturalCopies: "jpeg:95..50" }), /A <= B/);
    assert.ok(
      !(await Deno.stat(join(dir, "bad")).catch(() => undefined)),
      "a bad spec writes nothing",
    );
    // a copy is scored out of fold with its photograph (folds of sources, or of photographs):
    // with one neighbour and identical copies, the held-out scores are as without copies and each
    // threshold near its place (the quantile of doubled scores interpolates otherwise); a copy
    // scored by a model fitted on its twin would score 0 and pull the threshold down by half
    for (const threshold of ["cv-source", "cv"] as const) {
      const nn = { kinds: ["knn" as const], settings: { neighbours: 1 }, threshold };
      const plain = await run({ name: `plain-${threshold}`, ...nn });
      const twins = await run({ name: `twins-${threshold}`, naturalCopies: "noise:0", ...nn });
      for (const [k, row] of twins.cells[0].rows.entries()) {
        const t0 = plain.cells[0].rows[k].threshold!, t1 = row.threshold!;
        const ratio = t1 / t0;
        assert.ok(ratio > 0.85 && ratio < 1.25, `${threshold}, ${row.source}: ${t1} against ${t0}`);
        assert.equal(row.meanAuc, plain.cells[0].rows[k].meanAuc);
      }
    }
    assert.throws(() => fusedParts("profile+profile"), /fused with itself/);
    assert.throws(() => fusedParts("l9+profile"), /whole-image features .* not l9/);
    await assert.rejects(run({ name: "bad", features: ["residual+"] }), /not nothing/);
    // no source big enough: no mean or worst, said so (not 0 or ±Infinity)
    const none = losoMarkdown({
      ...r,
      minImages: 100,
      cells: [{
        ...r.cells[0],
        mean: { recall: NaN, unsure: NaN, auc: NaN },
        worst: { recall: NaN, unsure: NaN, auc: NaN },
      }],
    });
    assert.match(none, /No source has 100 photographs/);
    assert.match(none, /\| residual \| gauss \| cv \| – \| – \|/);
  });
});

/** The profile features of images, row after row. */
async function profiles(es: { path: string }[]): Promise<Float32Array> {
  const x = new Float32Array(es.length * PROFILE_DIM);
  for (const [i, e] of es.entries()) {
    x.set(await wholeImageFeatures("profile", await readImage(e.path)), i * PROFILE_DIM);
  }
  return x;
}

Deno.test("loso --head: every verdict rule, judged as detect judges, from p(CG) computed once", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const ds = await loadDataset(SHIPPED);
    const photos = ds.images.filter((i) => i.label === 0).slice(0, 24);
    const csv = await photosCsv(dir, photos, (i) => i % 2 ? "odd" : "even");
    const { rcsv, picked } = await someRenders(ds, dir, 3);
    const model = new URL("../../../models/cgbench-small/", import.meta.url).pathname;
    const run = (name: string) =>
      loso({
        natural: SHIPPED,
        naturalCsv: csv,
        renders: SHIPPED,
        rendersCsv: rcsv,
        features: ["profile"],
        kinds: ["gauss"],
        minImages: 8,
        head: model,
        runs: dir,
        name,
        progress: makeProgress({ quiet: true }),
      });
    const r = await run("head");
    const det = await loadDetector(model);
    try {
      assert.deepEqual(r.head, { detector: model, name: det.info.name, threshold: det.headAt });
      // p(CG) of every image, cached once, as detect computes it
      const cacheFile = [...Deno.readDirSync(join(r.dir, "features"))]
        .find((e) => e.name.startsWith("head-"))!.name;
      const saved = JSON.parse(await Deno.readTextFile(join(r.dir, "features", cacheFile)));
      assert.equal(saved.map, det.map!.sha);
      const all = [...photos, ...picked];
      assert.deepEqual(Object.keys(saved.pCg).sort(), all.map((e) => e.path).sort());
      const one = picked[0];
      const detected = await det.score(await Deno.readFile(one.path), { name: one.path });
      assert.ok(Math.abs(saved.pCg[one.path] - detected.pCg) < 1e-6);
      const p = (e: { path: string }) => saved.pCg[e.path] as number;
      // the head alone does not depend on the held-out source's model: its calls, counted here
      const band = Math.min(det.info.unsureP, det.headAt / 2, (1 - det.headAt) / 2);
      const headCall = (x: number) =>
        x > det.headAt + band ? "cg" : x < det.headAt - band ? "natural" : "unsure";
      const count = (es: { path: string }[], k: string) =>
        es.filter((e) => headCall(p(e)) === k).length / es.length;
      const cells = r.cells[0];
      for (const row of cells.rows) {
        const held = photos.filter((_, i) => (i % 2 ? "odd" : "even") === row.source);
        const rules = row.rules!;
        assert.deepEqual(Object.keys(rules), ["both", "fused", "head", "oneclass"]);
        for (const k of ["cg", "unsure", "natural"] as const) {
          assert.equal(rules.head!.photos[k], count(held, k));
          for (const c of ds.classes.filter((c) => c.label > 0)) {
            const mine = picked.filter((e) => e.label === c.label);
            assert.equal(rules.head!.renders[c.name][k], count(mine, k));
          }
        }
        // the one-class rule is the stage's own calls; every rule's shares sum to one
        assert.deepEqual(rules.oneclass!.renders, row.calls);
        assert.equal(rules.oneclass!.photos.unsure, row.unsure);
        for (const x of Object.values(rules)) {
          for (const c of [x.photos, ...Object.values(x.renders)]) {
            assert.ok(Math.abs(c.cg + c.unsure + c.natural - 1) < 1e-12, JSON.stringify(c));
          }
        }
        // both stages must agree: never more called natural than by either stage alone
        assert.ok(rules.both!.photos.natural <= rules.head!.photos.natural + 1e-12);
        assert.ok(rules.both!.photos.natural <= rules.oneclass!.photos.natural + 1e-12);
        // every rule again, from scratch: the other source's Gaussian, each image's own p(CG)
        const others = photos.filter((_, i) => (i % 2 ? "odd" : "even") !== row.source);
        const est = createOneClass("gauss", {
          ...resolveSettings(undefined, "profile", "gauss"),
          nu: 0.05,
          seed: 0,
        });
        try {
          await est.fit(await profiles(others), others.length, PROFILE_DIM);
          for (const rule of ["both", "fused", "head", "oneclass"] as const) {
            const by = new Detector(det.map, est, { ...det.info, unsure: 0.1, rule });
            const calls = async (es: { path: string }[]) => {
              const sc = await est.decisionFunction(await profiles(es), es.length);
              const v = es.map((e, i) => by.verdict(p(e), sc[i]));
              const share = (x: string) => v.filter((y) => y === x).length / v.length;
              return {
                cg: share("computer-generated"),
                unsure: share("unsure"),
                natural: share("natural"),
              };
            };
            assert.deepEqual(rules[rule]!.photos, await calls(held), `${row.source} ${rule}`);
            for (const c of ds.classes.filter((c) => c.label > 0)) {
              const mine = picked.filter((e) => e.label === c.label);
              assert.deepEqual(
                rules[rule]!.renders[c.name],
                await calls(mine),
                `${c.name} ${rule}`,
              );
            }
          }
        } finally {
          est.dispose();
        }
      }
      const s = cells.rules!.both!;
      assert.equal(
        s.worstNatural,
        Math.min(...cells.rows.map((x) => x.rules!.both!.photos.natural)),
      );
      assert.match(losoMarkdown(r), /\| profile \| gauss \| fused \| [0-9.]+ \|/);
      // run again: the cached p(CG) are read, not computed (a changed value shows through)
      const render = picked.find((e) => headCall(p(e)) !== "cg")!;
      saved.pCg[render.path] = 0.999;
      await Deno.writeTextFile(join(r.dir, "features", cacheFile), JSON.stringify(saved));
      const again = await run("head");
      const c = ds.classes.find((c) => c.label === render.label)!.name;
      const mine = picked.filter((e) => e.label === render.label).length;
      assert.ok(
        Math.abs(
          again.cells[0].rows[0].rules!.head!.renders[c].cg -
            (r.cells[0].rows[0].rules!.head!.renders[c].cg + 1 / mine),
        ) < 1e-12,
      );
    } finally {
      det.dispose();
    }
  });
});

Deno.test("loso --set head-model: a head fitted again without each held-out source and each renderer", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const ds = await loadDataset(SHIPPED);
    const photos = ds.images.filter((i) => i.label === 0).slice(0, 24);
    const side = (i: number) => ["a", "b", "c"][i % 3]; // three sources: each fit holds two
    const csv = await photosCsv(dir, photos, side);
    const { rcsv, picked } = await someRenders(ds, dir, 4);
    const run = (name: string, extra: Partial<LosoOptions> = {}) =>
      loso({
        natural: SHIPPED,
        naturalCsv: csv,
        renders: SHIPPED,
        rendersCsv: rcsv,
        features: ["profile"],
        kinds: ["gauss"],
        minImages: 8,
        headModel: "linear",
        runs: dir,
        name,
        progress: makeProgress({ quiet: true }),
        ...extra,
      });
    const r = await run("refit");
    assert.deepEqual(r.headModel, { model: "linear" });
    const renderers = ds.classes.filter((c) => c.label > 0);
    const cell = r.cells[0];
    // from scratch: for each held-out source and renderer, the head fitted on the other sources'
    // photographs against the other renderers' renders (groups as loso numbers them: sources in
    // order, the renders dealt over the fit's sources), its p(CG) of the held-out photographs and
    // renders; and the other sources' Gaussian, for the fused score
    const all = await profiles(photos), rendered = await profiles(picked);
    const rowsOf = (x: Float32Array, idx: number[]) => rowsAt(x, PROFILE_DIM, idx);
    for (const row of cell.rows) {
      const held = photos.map((_, i) => i).filter((i) => side(i) === row.source);
      const fit = photos.map((_, i) => i).filter((i) => side(i) !== row.source);
      const headShares: { cg: number; unsure: number; natural: number }[] = [];
      const fitSources = [...new Set(fit.map((i) => ["a", "b", "c"].indexOf(side(i))))].sort();
      const est = createOneClass("gauss", {
        ...resolveSettings(undefined, "profile", "gauss"),
        nu: 0.05,
        seed: 0,
      });
      await est.fit(rowsOf(all, fit), fit.length, PROFILE_DIM);
      const ocHeld = await est.decisionFunction(rowsOf(all, held), held.length);
      for (const c of renderers) {
        const mine = picked.map((_, i) => i).filter((i) => picked[i].label === c.label);
        const others = renderers.filter((o) => o !== c)
          .flatMap((o) => picked.map((_, i) => i).filter((i) => picked[i].label === o.label));
        const n = fit.length + others.length;
        const x = new Float32Array(n * PROFILE_DIM);
        x.set(rowsOf(all, fit));
        x.set(rowsOf(rendered, others), fit.length * PROFILE_DIM);
        const y = Array.from({ length: n }, (_, i) => i < fit.length ? 0 : 1);
        const groups = [
          ...fit.map((i) => ["a", "b", "c"].indexOf(side(i))),
          ...others.map((_, k) => fitSources[k % fitSources.length]),
        ];
        const head = makeHead("linear", { nu: 0.05, seed: 0 }).fit(x, n, PROFILE_DIM, y, groups);
        const pPhotos = head.pCg(rowsOf(all, held), held.length);
        const pRenders = head.pCg(rowsOf(rendered, mine), mine.length);
        assert.equal(
          row.refitted!.headAuc[c.name],
          rocAuc([...pPhotos, ...pRenders], [...held.map(() => 0), ...mine.map(() => 1)]),
          `${row.source} ${c.name}`,
        );
        const t = head.threshold, band = Math.min(0.1, t / 2, (1 - t) / 2);
        const call = (p: number) => p > t + band ? "cg" : p < t - band ? "natural" : "unsure";
        const share = (ps: Float64Array, k: string) =>
          [...ps].filter((p) => call(p) === k).length / ps.length;
        const of = (ps: Float64Array) => ({
          cg: share(ps, "cg"),
          unsure: share(ps, "unsure"),
          natural: share(ps, "natural"),
        });
        assert.deepEqual(row.rules!.head!.renders[c.name], of(pRenders));
        headShares.push(of(pPhotos));
        const ocMine = await est.decisionFunction(rowsOf(rendered, mine), mine.length);
        const fusedOf = (ps: Float64Array, sc: ArrayLike<number>) =>
          [...ps].map((p, k) => fusedScore(head.reference, p, est, sc[k])!);
        assert.equal(
          row.refitted!.fusedAuc[c.name],
          rocAuc(
            [...fusedOf(pPhotos, ocHeld), ...fusedOf(pRenders, ocMine)],
            [...held.map(() => 0), ...mine.map(() => 1)],
          ),
          `fused ${row.source} ${c.name}`,
        );
      }
      est.dispose();
      // the photographs' shares: the mean over the three heads
      for (const k of ["cg", "unsure", "natural"] as const) {
        const m = headShares.reduce((a, s) => a + s[k], 0) / headShares.length;
        assert.ok(Math.abs(row.rules!.head!.photos[k] - m) < 1e-12, `${row.source} ${k}`);
      }
      assert.deepEqual(Object.keys(row.rules!), ["both", "fused", "head", "oneclass"]);
      assert.deepEqual(row.rules!.oneclass!.renders, row.calls);
    }
    for (const c of renderers) {
      const x = cell.renderers![c.name];
      const m = cell.rows.reduce((a, y) => a + y.refitted!.headAuc[c.name], 0) / cell.rows.length;
      assert.ok(Math.abs(x.headAuc! - m) < 1e-12);
    }
    assert.match(losoMarkdown(r), /fitted again for each held-out source and each renderer/);
    assert.match(losoMarkdown(r), /\| head AUC \| fused AUC \|/);
    // the head on other features: other head AUCs, the same one-class figures; and two
    // configurations, each with the head on its own features (none taken from the other)
    const cache = join(r.dir, "features");
    const other = await run("refit-chroma", { headFeatures: "chroma", featureCache: cache });
    assert.deepEqual(other.headModel, { model: "linear", features: "chroma" });
    const headAucs = (c: typeof cell) => c.rows.map((x) => x.refitted!.headAuc);
    assert.deepEqual(
      other.cells[0].rows.map((x) => [x.recall, x.auc]),
      cell.rows.map((x) => [x.recall, x.auc]),
    );
    assert.notDeepEqual(headAucs(other.cells[0]), headAucs(cell));
    const two = await run("refit-two", { features: ["profile", "chroma"], featureCache: cache });
    assert.deepEqual(headAucs(two.cells[0]), headAucs(cell));
    const chromaAlone = await run("refit-chroma-alone", {
      features: ["chroma"],
      headFeatures: "chroma",
      featureCache: cache,
    });
    assert.deepEqual(headAucs(two.cells[1]), headAucs(chromaAlone.cells[0]));
    // refused: two heads, head features without a head, a model of no name, one renderer
    const model = new URL("../../../models/cgbench-small/", import.meta.url).pathname;
    await assert.rejects(run("two", { head: model }), /two heads/);
    await assert.rejects(
      run("feat", { headModel: undefined, headFeatures: "residual" }),
      /head-features needs head-model/,
    );
    await assert.rejects(run("few", { trainSources: 1 }), /train-sources of at least 2/);
    await assert.rejects(
      run("bad", { headModel: "tree" as HeadModel }),
      /head-model must be linear, rbf/,
    );
    const oneCsv = join(dir, "one.csv");
    const cycles = picked.filter((e) => e.label === 1).map((e) => `${e.name},1`);
    await Deno.writeTextFile(oneCsv, ["Name,Label", ...cycles].join("\n") + "\n");
    await assert.rejects(run("one", { rendersCsv: oneCsv }), /fewer than two renderers/);
  });
});
