/**
 * The whole method on a tiny configuration: map, one-class model, evaluation on every renderer,
 * report (opened in headless Chromium), detector export and loading (from disk, over HTTP, and
 * with mod.ts itself imported over HTTP), detect on good and broken files, and the resumable
 * renderer matrix.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { detectorFromRun, loadDetector } from "../../../lib/detect/detector.ts";
import { evaluate } from "../../../lib/eval/evaluate.ts";
import { detectorEvaluationDir, evaluateDetector } from "../../../lib/eval/evaluate_detector.ts";
import { type Evaluation, METRICS } from "../../../lib/eval/evaluation.ts";
import { readMapRun } from "../../../lib/map/run.ts";
import { mapTrainingSets } from "../../../lib/map/train.ts";
import { oneclassPool, trainOneClass } from "../../../lib/oneclass/train.ts";
import { robustness } from "../../../lib/eval/robustness.ts";
import type { Unit } from "../../../lib/cluster/graph.ts";
import { experiment, pipeline, type PipelineOptions } from "../../../lib/eval/experiment.ts";
import { type OneClassMatrix, oneclassMatrix } from "../../../lib/eval/oneclass_matrix.ts";
import { RESIDUAL_SPEC } from "../../../lib/features/residual.ts";
import { makeProgress } from "../../../lib/core/progress.ts";
import { writeReport } from "../../../lib/eval/report.ts";
import { main } from "../../../cli/main.ts";
import { encodePng } from "../../../lib/data/png.ts";
import { SHIPPED, shippedSubset, testBackend, tinyRowMap } from "../../_helpers.ts";
import { checkPage, chromiumPath } from "../../_chromium.ts";

const quiet = makeProgress({ quiet: true });
const readJson = async (f: string): Promise<unknown> => JSON.parse(await Deno.readTextFile(f));
const ROOT = new URL("../../../", import.meta.url).pathname;

function options(dir: string, csv: string, run: string, renderer: string): PipelineOptions {
  return {
    data: SHIPPED,
    runs: join(dir, "runs"),
    run,
    renderers: [renderer],
    map: tinyRowMap(csv),
    oneclass: { tiles: 2, settings: { hidden: 16, depth: 1, epochs: 4, batchSize: 8 } },
    evaluation: { tiles: 2, bootstrap: 50 },
    progress: quiet,
  };
}

const dir = await Deno.makeTempDir({ prefix: "cgvsni-pipeline-" });

/** What the matrix tests share: the tiny configuration of {@link options}, as experiment options. */
function matrixBase(csv: string) {
  const { runs, map, oneclass, evaluation } = options(dir, csv, "unused", "Cycles");
  return { data: SHIPPED, runs: runs!, map, oneclass, evaluation, progress: quiet };
}
/**
 * Rewrites a finished residual one-class run's manifest as if it had been fitted on the previous
 * definition of the residual features; returns that version.
 */
async function markStale(run: string): Promise<number> {
  const saved = JSON.parse(await Deno.readTextFile(join(run, "oneclass.json")));
  const old = RESIDUAL_SPEC.version - 1;
  saved.provenance.residual = { ...saved.provenance.residual, version: old };
  await Deno.writeTextFile(join(run, "oneclass.json"), JSON.stringify(saved));
  return old;
}

/** The stale run is at `<run>-v<old>` whole (model and evaluation); `run` is of today's definition. */
async function assertRefitted(run: string, old: number): Promise<void> {
  const aside = JSON.parse(await Deno.readTextFile(join(`${run}-v${old}`, "oneclass.json")));
  assert.equal(aside.provenance.residual.version, old);
  assert.ok(await Deno.stat(join(`${run}-v${old}`, "evaluation", "results.json")));
  const fresh = JSON.parse(await Deno.readTextFile(join(run, "oneclass.json")));
  assert.deepEqual(fresh.provenance.residual, RESIDUAL_SPEC);
}

let evaluation: Evaluation | undefined;
const ready = (async () => {
  await testBackend();
  const csv = await shippedSubset(dir);
  evaluation = await pipeline(options(dir, csv, "p", "EEVEE"));
  return csv;
})();

Deno.test("pipeline: evaluation covers every renderer, head and flow, every metric with a CI", async () => {
  await ready;
  const ev = evaluation!;
  assert.deepEqual(ev.results.map((r) => [r.renderer, r.seen, r.natural, r.rendered]), [
    ["Cycles", false, 3, 2],
    ["EEVEE", true, 3, 2],
    ["POVRay", false, 3, 2],
  ]);
  for (const r of ev.results) {
    // the fused score: both stages kept the natural scores their thresholds came from
    for (const k of ["head", "oneclass", "fused"] as const) {
      for (const m of METRICS) {
        const v = r[k]![m];
        assert.ok(
          v.value >= 0 && v.value <= 1 && v.lo <= v.value + 1e-9 && v.hi >= v.value - 1e-9,
          `${r.renderer} ${k} ${m}`,
        );
      }
    }
  }
  assert.equal(ev.crops.perImage, 4);
  const out = join(dir, "runs/p/flow/evaluation");
  assert.ok(ev.controls && ev.controls.negative.length === 1 && ev.controls.positive!.n === 3);
  assert.equal(ev.norms.map((n) => n.name).join(","), "natural,Cycles,EEVEE,POVRay");
  for (const f of ["results.json", "results.md", "roc.svg", "histograms.svg"]) {
    await Deno.stat(join(out, f));
  }
  assert.match(
    await Deno.readTextFile(join(out, "results.md")),
    /\| EEVEE \(seen\) \| 3\/2 \| softmax head \|/,
  );
});

Deno.test("pipeline: a finished run is reused, not recomputed", async () => {
  const csv = await ready;
  const model = join(dir, "runs/p/model/model.bin");
  const before = (await Deno.stat(model)).mtime!.getTime();
  const again = await pipeline(options(dir, csv, "p", "EEVEE"));
  assert.equal((await Deno.stat(model)).mtime!.getTime(), before);
  assert.equal(again.created, evaluation!.created);
  // the head decides at the threshold set on the map's natural val+flow images, kept in the run
  const set = JSON.parse(await Deno.readTextFile(join(dir, "runs/p/head-threshold.json")));
  assert.equal(again.headThreshold!.value, set.value);
  assert.ok(set.n > 0 && set.value > 0 && set.value < 1);
  // an evaluation from before the head's threshold (the head at 0.5) is out of date: evaluated again
  const file = join(dir, "runs/p/flow/evaluation/results.json");
  const { headThreshold: _, ...old } = again;
  await Deno.writeTextFile(file, JSON.stringify(old));
  const fresh = await pipeline(options(dir, csv, "p", "EEVEE"));
  assert.notEqual(fresh.created, evaluation!.created);
  assert.equal(fresh.headThreshold!.value, set.value);
  assert.equal((await Deno.stat(model)).mtime!.getTime(), before);
});

Deno.test("pipeline: a finished residual one-class run of another feature definition is fitted again, not reused", async () => {
  const csv = await ready;
  const o = {
    ...options(dir, csv, "p", "EEVEE"),
    oneclass: { features: "residual" as const, oneclass: "gauss" as const },
  };
  const first = await pipeline(o);
  const run = join(dir, "runs/p/residual-gauss");
  const old = await markStale(run);
  const again = await pipeline(o);
  // the old run moved aside whole; the new one is of today's definition and scores the same
  await assertRefitted(run, old);
  assert.notEqual(again.created, first.created);
  assert.deepEqual(again.results, first.results);
});

Deno.test("pipeline: a finished run fitted with other settings (a default that changed since) is fitted again", async () => {
  const csv = await ready;
  const o = {
    ...options(dir, csv, "p", "EEVEE"),
    oneclass: { features: "residual" as const, oneclass: "gauss" as const },
  };
  await pipeline(o);
  const run = join(dir, "runs/p/residual-gauss");
  // as the residual Gaussian was fitted before its slopes became a check
  const config = JSON.parse(await Deno.readTextFile(join(run, "config.json")));
  assert.deepEqual(config.settings.checks, ["slope"]);
  delete config.settings.checks;
  await Deno.writeTextFile(join(run, "config.json"), JSON.stringify(config));
  await pipeline(o);
  const aside = JSON.parse(await Deno.readTextFile(join(`${run}-old`, "config.json")));
  assert.equal(aside.settings.checks, undefined);
  const fresh = JSON.parse(await Deno.readTextFile(join(run, "config.json")));
  assert.deepEqual(fresh.settings.checks, ["slope"]);
  // the same settings again: reused, not moved
  const before = (await Deno.stat(join(run, "oneclass.json"))).mtime!.getTime();
  await pipeline(o);
  assert.equal((await Deno.stat(join(run, "oneclass.json"))).mtime!.getTime(), before);
  await assert.rejects(Deno.stat(`${run}-old-2`), Deno.errors.NotFound);
});

Deno.test("report: several one-class runs of one map get a section each, in the order asked", async () => {
  const csv = await ready;
  const o = options(dir, csv, "p", "EEVEE");
  const ev = await pipeline({
    ...o,
    oneclass: { name: "residual-gauss", features: "residual", oneclass: "gauss" },
  });
  assert.equal(ev.oneclassRun, "residual-gauss");
  assert.equal(ev.features, "residual");
  const text = await Deno.readTextFile(
    await writeReport(join(dir, "runs"), "p", ["flow", "residual-gauss", "absent"]),
  );
  const at = (s: string) => text.indexOf(s);
  const flow = at("One-class model <code>flow</code>");
  const gauss = at("One-class model <code>residual-gauss</code>");
  const absent = at("One-class model <code>absent</code>");
  assert.ok(flow > 0 && gauss > flow && absent > gauss, `${flow} ${gauss} ${absent}`);
  assert.ok(at("Evaluation: <code>residual-gauss</code> and the head") > gauss);
  assert.match(text.slice(gauss, absent), /gauss on residual features/);
  assert.match(text.slice(absent), /not trained yet/);
  assert.equal(text.match(/<h2>Configuration<\/h2>/g)?.length, 1);
});

Deno.test({
  name: "report: one self-contained HTML page that opens in headless Chromium without errors",
  ignore: !chromiumPath(),
  async fn() {
    await ready;
    const html = await writeReport(join(dir, "runs"), "p");
    const text = await Deno.readTextFile(html);
    assert.doesNotMatch(text, /<script|src="http|href="http|@import/);
    for (
      const s of [
        "Dataset and split",
        "The image map",
        "One-class model",
        "Evaluation",
        "Diagnostics",
        "POVRay",
      ]
    ) assert.match(text, new RegExp(s));
    const page = await checkPage(`file://${html}`);
    assert.deepEqual(page.errors, []);
    // at 1280 px nothing spills past the page, and nothing is drawn outside its figure
    assert.deepEqual(page.layout.overflow, []);
    assert.ok(page.layout.pageWidth <= 1280, `page is ${page.layout.pageWidth} px wide`);
    assert.equal(page.title, "cgvsni run p");
    await Deno.writeFile(join(dir, "runs/p/report.png"), page.screenshot);
    assert.ok(page.screenshot.length > 10_000);
  },
});

Deno.test("detector: export, load from disk and over HTTP; mod.ts imported by URL scores a real image", async () => {
  await ready;
  const out = join(dir, "det");
  assert.equal(
    await main(["export-detector", "--map", "p", "--runs", join(dir, "runs"), "--out", out]),
    0,
  );
  const img = await Deno.readFile(join(SHIPPED, "POVRay/povray_00003.png"));
  const local = await loadDetector(out);
  const a = await local.score(img);
  assert.equal(a.crops, 9); // 256 px with 80 px crops: 3 x 3 tiles
  assert.ok(["computer-generated", "natural", "unsure"].includes(a.verdict));

  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      const p = decodeURIComponent(new URL(req.url).pathname);
      const file = p.startsWith("/det/") ? join(out, p.slice(5)) : join(ROOT, p);
      try {
        const type = p.endsWith(".ts")
          ? "application/typescript"
          : p.endsWith(".json")
          ? "application/json"
          : "application/octet-stream";
        return new Response(await Deno.readFile(file), { headers: { "content-type": type } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    // a user's script elsewhere, with no config of ours, importing the toolkit by URL
    const script = join(dir, "user_script.ts");
    await Deno.writeTextFile(
      script,
      `const { initBackend, loadDetector } = await import(Deno.args[0] + "/mod.ts");
await initBackend("auto");
const det = await loadDetector(Deno.args[1]);
const d = await det.score(await Deno.readFile(Deno.args[2]));
console.log(JSON.stringify({ score: d.score, pCg: d.pCg }));
await loadDetector(Deno.args[0] + "/nothing/").catch((e) => console.log(e.message));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-lock",
        "--no-config",
        "--allow-import=127.0.0.1",
        "--allow-net=127.0.0.1",
        "--allow-read",
        "--allow-env",
        "--allow-ffi",
        "--allow-sys",
        script,
        base,
        `${base}/det/`,
        join(SHIPPED, "POVRay/povray_00003.png"),
      ],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n");
    assert.ok(out.success, new TextDecoder().decode(out.stderr).slice(-500));
    const b = JSON.parse(text[0]);
    // Another process: oneDNN guarantees the same kernels, not the same rounding, across
    // processes (seen: 4e-8 relative once in the full suite), so equal to float precision.
    assert.ok(
      Math.abs(b.score - a.score) <= 1e-5 * Math.max(1, Math.abs(a.score)),
      `${b.score} vs ${a.score}`,
    );
    assert.ok(Math.abs(b.pCg - a.pCg) <= 1e-5, `${b.pCg} vs ${a.pCg}`);
    assert.match(text[1], /nothing\/detector\.json: HTTP 404/);
  } finally {
    ac.abort();
    await server.finished;
    local.dispose();
  }
});

Deno.test("detect: good images scored, broken ones listed, exit code 3; --json and --csv", async () => {
  await ready;
  const folder = join(dir, "mixed");
  await Deno.mkdir(join(folder, "sub"), { recursive: true });
  await Deno.copyFile(join(SHIPPED, "Photos/photo_00001.png"), join(folder, "good one.png"));
  await Deno.copyFile(join(SHIPPED, "Cycles/cycles_00000.png"), join(folder, "sub/ünïcode.png"));
  await Deno.writeTextFile(join(folder, "broken.png"), "definitely not a png");
  await Deno.writeFile(
    join(folder, "tiny.png"),
    await encodePng({ width: 4, height: 4, channels: 3, data: new Uint8Array(48) }),
  );
  await Deno.symlink(folder, join(folder, "sub/loop"));
  const run = async (extra: string[]) => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => lines.push(a.join(" "));
    try {
      return {
        code: await main([
          "detect",
          folder,
          "--map",
          "p",
          "--runs",
          join(dir, "runs"),
          ...extra,
        ]),
        out: lines.join("\n"),
      };
    } finally {
      console.log = log;
    }
  };
  const j = await run(["--json", "--heatmap", join(dir, "heat")]);
  assert.equal(j.code, 3);
  const parsed = JSON.parse(j.out);
  assert.deepEqual(parsed.results.map((r: { file: string }) => r.file.split("/").pop()).sort(), [
    "good one.png",
    "ünïcode.png",
  ]);
  assert.deepEqual(
    parsed.errors.map((e: { file: string; error: string }) => [e.file.split("/").pop(), e.error])
      .sort(),
    [
      [
        "broken.png",
        "not an image (unknown file signature; JPEG, PNG, TIFF, GIF, WebP, AVIF, BMP and PPM are read)",
      ],
      ["tiny.png", "4x4 is smaller than the 80x80 crop"],
    ],
  );
  assert.equal([...Deno.readDirSync(join(dir, "heat"))].length, 2);
  const c = await run(["--csv"]);
  assert.match(c.out, /^file,verdict,p_cg,score,crops,disagree,error\n/);
  assert.match(
    c.out,
    /broken\.png,,,,,,"not an image \(unknown file signature; [^"]+\)"\n/,
  ); // a one-class band sized on the photographs: read by rules oneclass and both, refused where it
  // would do nothing (fused, head) or with --unsure, which sizes the same band
  const sized = await run(["--json", "--rule", "oneclass", "--unsure-share", "0.04"]);
  assert.equal(sized.code, 3);
  assert.equal(JSON.parse(sized.out).results.length, 2);
  for (const bad of [["--rule", "fused"], ["--rule", "oneclass", "--unsure", "0.1"]]) {
    const r = await run(["--json", ...bad, "--unsure-share", "0.04"]);
    assert.equal(r.code, 2, bad.join(" "));
  }
  assert.equal((await run(["--rule", "oneclass", "--unsure-share", "0.5"])).code, 2); // over 2ν
});

Deno.test("experiment: the renderer matrix fills every cell and resumes without recomputing", async () => {
  const csv = await ready;
  const base = matrixBase(csv);
  const o = {
    ...base,
    name: "mx",
    renderers: ["Cycles", "POVRay"],
  };
  const m = await experiment(o);
  assert.deepEqual(m.cells.map((c) => `${c.train}>${c.test}`), [
    "Cycles>Cycles",
    "Cycles>EEVEE",
    "Cycles>POVRay",
    "POVRay>Cycles",
    "POVRay>EEVEE",
    "POVRay>POVRay",
  ]);
  const md = await Deno.readTextFile(join(m.dir, "matrix.md"));
  // row Cycles: its own column is seen (plain), the others unseen (bold)
  assert.match(md, /\| \*\*Cycles\*\* \| [0-9][^|*]*\\\| [^|*]* \| \*\*[0-9]/);
  // each row's vectors were computed ahead by its features unit: the one-class fit and the
  // evaluation put every list together from its slices, computing none themselves
  const features = await Array.fromAsync(Deno.readDir(join(base.runs, "mx-POVRay/features")));
  assert.deepEqual(features.map((e) => e.name), ["shards"]);
  const stamp = (await Deno.stat(join(base.runs, "mx-POVRay/model/model.bin"))).mtime!.getTime();
  const again = await experiment(o);
  assert.deepEqual(again.cells, m.cells);
  assert.equal(
    (await Deno.stat(join(base.runs, "mx-POVRay/model/model.bin"))).mtime!.getTime(),
    stamp,
  );
  // the map's saved model changed (here only its file's bytes: the same weights): the one-class
  // model made from it is set aside (with its evaluation, inside it) and fitted again; both come
  // out the same
  const modelJson = join(base.runs, "mx-POVRay/model/model.json");
  await Deno.writeTextFile(modelJson, (await Deno.readTextFile(modelJson)) + "\n");
  const evaluated =
    (await readJson(join(base.runs, "mx-POVRay/flow/evaluation/results.json"))) as Evaluation;
  const third = await experiment(o);
  assert.ok(await Deno.stat(join(base.runs, "mx-POVRay/flow-old/oneclass.json")));
  assert.deepEqual(
    await Deno.readFile(join(base.runs, "mx-POVRay/flow/oneclass.bin")),
    await Deno.readFile(join(base.runs, "mx-POVRay/flow-old/oneclass.bin")),
  );
  const kept =
    (await readJson(join(base.runs, "mx-POVRay/flow/evaluation/results.json"))) as Evaluation;
  assert.notEqual(kept.created, evaluated.created);
  assert.deepEqual(kept.images, evaluated.images);
  assert.deepEqual(third.cells, m.cells);
  await assert.rejects(Deno.stat(join(base.runs, "mx-Cycles/flow-old")), Deno.errors.NotFound);
});

Deno.test("LORO: the held-out renderer is in no training, validation or threshold set, and scored as unseen", async () => {
  const csv = await ready;
  const base = matrixBase(csv);
  const m = await experiment({
    ...base,
    name: "lo",
    protocol: "loro",
    renderers: ["POVRay"],
  });
  // the run's own files: its config, its split, its one-class run's pool
  const run = await readMapRun(base.runs, "lo-noPOVRay");
  const held = run.dataset.classes.find((c) => c.name === "POVRay")!.label;
  assert.deepEqual(run.config.renderers.map((r) => r.name), ["Cycles", "EEVEE"]);
  const { train, val } = mapTrainingSets(run.split, run.config.renderers);
  assert.ok(train.some((e) => e.label === 0) && train.some((e) => e.label > 0));
  assert.ok(
    run.split.some((e) => e.label === held && e.role === "train"),
    "the split gives it roles",
  );
  assert.equal([...train, ...val].filter((e) => e.label === held).length, 0);
  const oc = JSON.parse(await Deno.readTextFile(join(run.dir, "flow/config.json")));
  const pool = oneclassPool(run.split, oc.pool);
  assert.ok(pool.length > 0 && pool.every((e) => e.label === 0));
  // evaluated on its test images only, as unseen
  const cells = m.cells.filter((c) => c.test === "POVRay");
  assert.equal(cells.length, 1);
  assert.equal(cells[0].seen, false);
  const tested = run.split.filter((e) => e.label === held && e.role === "test").length;
  assert.equal(cells[0].n[1], tested);
});

Deno.test("oneclass-matrix: a residual cell of another feature definition is set aside and fitted again", async () => {
  const csv = await ready;
  const base = matrixBase(csv);
  const o = {
    ...base,
    name: "om",
    seeds: [0],
    sources: ["residual" as const],
    kinds: ["gauss" as const],
  };
  const m = await oneclassMatrix(o);
  const residual = (x: OneClassMatrix) => x.cells.filter((c) => c.source === "residual");
  // fitted once per seed, every renderer unseen
  assert.deepEqual(residual(m).map((c) => `${c.test}:${c.seen}`), [
    "Cycles:false",
    "EEVEE:false",
    "POVRay:false",
  ]);
  // the saved model now says it was fitted on the previous version of the residual features
  const cell = join(base.runs, "om-s0-noCycles", "residual-gauss");
  const old = await markStale(cell);
  const again = await oneclassMatrix(o);
  // moved aside whole, fitted again on the current definition, with the same results
  await assertRefitted(cell, old);
  assert.deepEqual(residual(again), residual(m));
  // a graph: the residual cell once per seed (on the first row's map, the only one it needs), then
  // the table, which was written again after its cell
  const graph = (await readJson(join(base.runs, "om", "graph.json"))) as { units: Unit[] };
  assert.deepEqual(graph.units.map((u) => `${u.id}<${u.after.join(",")}`), [
    "map-s0-noCycles<",
    "cell-s0-noCycles-residual-gauss<map-s0-noCycles",
    "table<cell-s0-noCycles-residual-gauss",
  ]);
  assert.notEqual(again.created, m.created);
});

Deno.test("robustness: one evaluation per perturbation as units; finished ones kept, all again when the model changes", async () => {
  const csv = await ready;
  const runs = join(dir, "runs");
  const fit = (nu: number) =>
    trainOneClass({
      map: "p",
      runs,
      name: "rb",
      features: "residual",
      oneclass: "gauss",
      settings: { nu },
      progress: quiet,
    });
  await pipeline(options(dir, csv, "p", "EEVEE")); // the map, reused
  await fit(0.05);
  const o = {
    map: "p",
    oneclass: "rb",
    runs,
    grid: ["none", "blur:1"],
    bootstrap: 20,
    progress: quiet,
  };
  const r = await robustness(o);
  assert.deepEqual(r.rows.map((x) => x.perturbation), ["none", "blur:1"]);
  const clean = (await readJson(join(r.dir, "none", "results.json"))) as Evaluation;
  // the clean row is the plain evaluation's images, pooled
  assert.deepEqual(r.rows[0].n, [
    clean.images.filter((i) => i.label === 0).length,
    clean.images.filter((i) => i.label > 0).length,
  ]);
  const graph = (await readJson(join(r.dir, "graph.json"))) as { units: { id: string }[] };
  assert.deepEqual(graph.units.map((u) => u.id), ["perturb-none", "perturb-blur_1", "grid"]);
  const created = async (p: string) =>
    ((await readJson(join(r.dir, p, "results.json"))) as Evaluation).created;
  // asked again, and with one more perturbation: only that one is evaluated
  await robustness({ ...o, grid: [...o.grid, "jpeg:75"] });
  assert.equal(await created("none"), clean.created);
  assert.ok(await created("jpeg_75"));
  // the model fitted again with another nu (its robustness folder kept): every perturbation
  // evaluated again, at the new threshold
  const kept = join(dir, "rb-robustness");
  await Deno.rename(r.dir, kept);
  await Deno.remove(join(runs, "p", "rb"), { recursive: true });
  await fit(0.2);
  await Deno.rename(kept, r.dir);
  const after = await robustness(o);
  const fresh = (await readJson(join(r.dir, "none", "results.json"))) as Evaluation;
  assert.notEqual(fresh.created, clean.created);
  assert.notEqual(fresh.threshold.value, clean.threshold.value);
  assert.notEqual(after.created, r.created);
});

Deno.test("evaluate --map RUN --test-data --shards: the run's detector evaluated in slices equals one process's, and again when its model changes", async () => {
  const csv = await ready;
  const runs = join(dir, "runs");
  await pipeline(options(dir, csv, "p", "EEVEE")); // the map, reused
  const fit = (nu: number) =>
    trainOneClass({
      map: "p",
      runs,
      name: "es",
      features: "residual",
      oneclass: "gauss",
      settings: { nu },
      progress: quiet,
    });
  await fit(0.05);
  const sharded = () =>
    main([
      "evaluate",
      "--map",
      "p",
      "--oneclass-run",
      "es",
      "--runs",
      runs,
      "--test-data",
      SHIPPED,
      "--test-csv",
      csv,
      "--shards",
      "2",
      "--bootstrap",
      "50",
    ]);
  // another CSV than the folder's own: its own results folder
  const results = join(runs, "detectors", "p-es-dataset-subset", "results.json");
  assert.equal(detectorEvaluationDir(runs, "p-es", SHIPPED, csv), dirname(results));
  assert.equal(await sharded(), 0);
  const first = (await readJson(results)) as Evaluation;
  const det = await detectorFromRun(runs, "p", "es");
  try {
    await evaluateDetector(det, {
      testData: SHIPPED,
      testCsv: csv,
      bootstrap: 50,
      out: join(dir, "p-one"),
      progress: quiet,
    });
    // as written (NaN, a norm no map source gives, reads back as null)
    const written = (await readJson(join(dir, "p-one", "results.json"))) as Evaluation;
    const { created: _c, ...want } = written;
    const { created: _s, ...got } = first;
    assert.deepEqual(got, want);
    assert.equal(first.images.length, 36);
  } finally {
    det.dispose();
  }
  // the one-class model fitted again under the same name: every shard scored again
  await Deno.remove(join(runs, "p", "es"), { recursive: true });
  await fit(0.2);
  assert.equal(await sharded(), 0);
  const second = (await readJson(results)) as Evaluation;
  assert.notEqual(second.threshold.value, first.threshold.value);
  // the run's own test split is not sliced this way, and --tiles does not apply: said so
  assert.equal(await main(["evaluate", "--map", "p", "--runs", runs, "--shards", "2"]), 2);
  assert.equal(
    await main([
      "evaluate",
      "--map",
      "p",
      "--runs",
      runs,
      "--test-data",
      SHIPPED,
      "--shards",
      "2",
      "--tiles",
      "2",
    ]),
    2,
  );
});

Deno.test("evaluate --test-data: a folder never split is scored whole, renderers matched by name", async () => {
  await ready;
  // another dataset: its own folders, labels numbered its own way (EEVEE is 1 here, 2 in dataset/)
  const ext = join(dir, "elsewhere");
  const ds = await loadDataset(SHIPPED);
  const pick = (label: number, k: number) => ds.images.filter((i) => i.label === label).slice(-k);
  const rows: string[] = [];
  for (
    const [folder, label, from] of [["Photos", 0, 0], ["EEVEE", 1, 2], ["Mystery", 2, 3]] as const
  ) {
    await Deno.mkdir(join(ext, folder), { recursive: true });
    for (const img of pick(from, folder === "Photos" ? 4 : 3)) {
      const name = `${folder}/${img.name.split("/").pop()}`;
      await Deno.copyFile(join(SHIPPED, img.name), join(ext, name));
      rows.push(`${name},${label}`);
    }
  }
  await Deno.writeTextFile(join(ext, "dataset.csv"), ["Name,Label", ...rows].join("\n") + "\n");
  const splitBefore = await Deno.readTextFile(join(dir, "runs/p/split.csv"));
  const ev = await evaluate({
    map: "p",
    runs: join(dir, "runs"),
    testData: ext,
    tiles: 2,
    bootstrap: 20,
    noControls: true,
    progress: quiet,
  });
  assert.deepEqual(ev.results.map((r) => [r.renderer, r.seen, r.natural, r.rendered]), [
    ["EEVEE", true, 4, 3],
    ["Mystery", false, 4, 3],
  ]);
  assert.ok(ev.dir.endsWith("evaluation-elsewhere"));
  await Deno.stat(join(ev.dir, "results.md"));
  assert.equal(await Deno.readTextFile(join(dir, "runs/p/split.csv")), splitBefore);
});

Deno.test("consumers: a run's evaluation, the exported detector's evaluation and detect give every image the same scores, bit for bit", async () => {
  await ready;
  const folder = join(dir, "same");
  const ds = await loadDataset(SHIPPED);
  const rows: string[] = [];
  for (const [label, from] of [[0, 0], [1, 1], [2, 3]]) {
    for (const img of ds.images.filter((i) => i.label === from).slice(-3)) {
      await Deno.mkdir(join(folder, img.name.split("/")[0]), { recursive: true });
      await Deno.copyFile(join(SHIPPED, img.name), join(folder, img.name));
      rows.push(`${img.name},${label}`);
    }
  }
  await Deno.writeTextFile(join(folder, "dataset.csv"), ["Name,Label", ...rows].join("\n") + "\n");
  const runs = join(dir, "runs"), out = join(dir, "same-det");
  // 256 px images, 80 px crops: 3 tiles per side, in the evaluation and in detect alike
  const byRun = await evaluate({
    map: "p",
    runs,
    testData: folder,
    tiles: 3,
    bootstrap: 20,
    noControls: true,
    out: join(dir, "same-run"),
    progress: quiet,
  });
  assert.equal(await main(["export-detector", "--map", "p", "--runs", runs, "--out", out]), 0);
  const det = await loadDetector(out);
  try {
    const byDetector = await evaluateDetector(det, {
      testData: folder,
      out: join(dir, "same-eval"),
      bootstrap: 20,
      noControls: true,
      progress: quiet,
    });
    const pick = (
      i: { name: string; pCg: number; score: number; fused?: number },
    ) => [i.name, i.pCg, i.score, i.fused];
    assert.equal(byRun.images.length, rows.length);
    assert.deepEqual(byDetector.images.map(pick), byRun.images.map(pick));
    for (const i of byRun.images) {
      const d = await det.score(await Deno.readFile(join(folder, i.name)));
      assert.deepEqual(pick({ ...d, name: i.name }), pick(i));
    }
  } finally {
    det.dispose();
  }
});

// the shared runs are removed when the module's tests are done, whatever their order
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

Deno.test("detector: the default detector ships in models/ (at most 20 MB) and scores an image", async () => {
  await testBackend();
  const dir = join(ROOT, "models/cgbench-small");
  let bytes = 0;
  for await (const e of Deno.readDir(dir)) bytes += (await Deno.stat(join(dir, e.name))).size;
  assert.ok(bytes <= 20 * 2 ** 20, `${bytes} bytes`);
  await Deno.stat(join(dir, "MODEL_CARD.md"));
  const det = await loadDetector(dir);
  const d = await det.score(await Deno.readFile(join(SHIPPED, "Photos/photo_00010.png")));
  assert.equal(d.crops, 4); // 256 px with 96 px crops: 2 x 2 tiles
  assert.ok(d.pCg >= 0 && d.pCg <= 1 && Number.isFinite(d.score));
  assert.equal(det.info.rule, "both");
  det.dispose();
});
