/**
 * Evaluating a finished detector on a labelled folder (`evaluate --detector`): the metrics are
 * those of the images it scored, a bad file is listed and the rest evaluated, the controls and
 * the files are written, and no tensor is left behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../../../lib/core/deps.ts";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { loadDetector } from "../../../lib/detect/detector.ts";
import { detectorEvaluationDir, evaluateDetector } from "../../../lib/eval/evaluate_detector.ts";
import { rocAuc } from "../../../lib/eval/metrics.ts";
import { main } from "../../../cli/main.ts";
import { SHIPPED, testBackend, withTempDir } from "../../_helpers.ts";

const MODEL = new URL("../../../models/cgbench-small", import.meta.url).pathname;
/** Images per class copied from dataset/ (the first ones of its dataset.csv). */
const PER_CLASS = 5;

/** A labelled folder: Photos and two renderers from dataset/, plus one file that is no image. */
async function smallSet(dir: string): Promise<void> {
  const ds = await loadDataset(SHIPPED);
  const keep = ["natural", "Cycles", "POVRay"];
  const rows = ["Name,Label"];
  for (const c of ds.classes.filter((c) => keep.includes(c.name))) {
    for (const im of ds.images.filter((i) => i.label === c.label).slice(0, PER_CLASS)) {
      await Deno.mkdir(join(dir, im.source), { recursive: true });
      await Deno.copyFile(im.path, join(dir, im.name));
      rows.push(`${im.name},${keep.indexOf(c.name)}`);
    }
  }
  await Deno.writeTextFile(join(dir, "Photos/broken.png"), "not a PNG at all");
  rows.push("Photos/broken.png,0");
  await Deno.writeTextFile(join(dir, "dataset.csv"), rows.join("\n") + "\n");
}

Deno.test("evaluateDetector: per-renderer metrics from the scores, bad file listed, controls and files written, tensors freed", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    await smallSet(join(dir, "set"));
    const det = await loadDetector(MODEL);
    const before = tf.memory().numTensors;
    const out = join(dir, "out");
    const ev = await evaluateDetector(det, {
      testData: join(dir, "set"),
      out,
      bootstrap: 50,
      progress: { start() {}, tick() {}, end() {}, log() {} },
    });
    assert.equal(tf.memory().numTensors, before);
    det.dispose();

    assert.equal(ev.skipped.length, 1);
    assert.match(ev.skipped[0], /^Photos\/broken\.png: /);
    assert.match(await Deno.readTextFile(join(out, "skipped.txt")), /Photos\/broken\.png/);
    assert.equal(ev.images.length, 3 * PER_CLASS);
    assert.deepEqual(ev.results.map((r) => [r.renderer, r.seen]), [["Cycles", true], [
      "POVRay",
      true,
    ]]);
    const natural = ev.images.filter((i) => i.label === 0);
    for (const r of ev.results) {
      const cg = ev.images.filter((i) => i.label === r.label);
      const labels = [...natural.map(() => 0), ...cg.map(() => 1)];
      const head = rocAuc([...natural, ...cg].map((i) => i.pCg), labels);
      const oc = rocAuc([...natural, ...cg].map((i) => i.score), labels);
      assert.equal(r.head!.auc.value, head);
      assert.equal(r.oneclass.auc.value, oc);
      assert.equal(
        r.oneclass.niRecall.value,
        natural.filter((i) => i.score <= 0).length / PER_CLASS,
      );
      assert.equal(r.natural, PER_CLASS);
      assert.equal(r.rendered, PER_CLASS);
    }
    // the controls: photographs per source folder, and the same photographs blurred
    assert.equal(ev.controls!.positive!.n, PER_CLASS);
    assert.deepEqual(ev.controls!.negative.map((x) => [x.source, x.n]), [["Photos", PER_CLASS]]);
    assert.equal(
      ev.controls!.negative[0].inside.value,
      natural.filter((i) => i.score <= 0).length / PER_CLASS,
    );
    assert.ok(Number.isFinite(ev.threshold.value));
    for (const f of ["results.json", "results.md", "roc.svg", "histograms.svg"]) {
      assert.ok((await Deno.stat(join(out, f))).size > 0, f);
    }
    const md = await Deno.readTextFile(join(out, "results.md"));
    assert.match(md, /^# Evaluation: detector `/);
    // each image's verdict is the detector's own, and the shares per class are theirs
    const again = await loadDetector(MODEL);
    try {
      for (const i of ev.images) {
        assert.equal(i.verdict, again.verdict(i.pCg, i.score, i.failsCheck ? ["slope"] : []));
      }
    } finally {
      again.dispose();
    }
    assert.equal(ev.rule, "both");
    const cycles = ev.images.filter((i) => i.source === "Cycles");
    const share = (v: string) =>
      (cycles.filter((i) => i.verdict === v).length / PER_CLASS).toFixed(3);
    assert.ok(
      md.includes(
        `| Cycles | ${PER_CLASS} | ${share("computer-generated")} | ${share("unsure")} | ${
          share("natural")
        } |`,
      ),
      md,
    );
    assert.match(md, /\| natural \| \d+ \| /);
  });
});

Deno.test("cli: evaluate --detector scores a labelled folder; without --test-data it is a usage error", async () => {
  await withTempDir(async (dir) => {
    await smallSet(join(dir, "set"));
    const out: string[] = [], err: string[] = [];
    const { log, error } = console;
    console.log = (...a: unknown[]) => out.push(a.join(" "));
    console.error = (...a: unknown[]) => err.push(a.join(" "));
    let code: number, bad: number;
    try {
      bad = await main(["evaluate", "--detector", MODEL]);
      code = await main([
        "evaluate",
        "--detector",
        MODEL,
        "--test-data",
        join(dir, "set"),
        "--runs",
        join(dir, "runs"),
        "--bootstrap",
        "20",
        "--no-controls",
      ]);
    } finally {
      console.log = log;
      console.error = error;
    }
    assert.equal(bad, 2);
    assert.match(err.join("\n"), /--detector needs --test-data/);
    assert.equal(code, 0, err.join("\n"));
    const text = out.join("\n");
    assert.match(text, /^Cycles\* +head AUC /m);
    assert.match(text, /^POVRay\* +head AUC /m);
    assert.match(text, /1 image\(s\) skipped/);
    const where = detectorEvaluationDir(join(dir, "runs"), MODEL, join(dir, "set"));
    assert.equal(where, join(dir, "runs", "detectors", "cgbench-small-set"));
    assert.equal(
      detectorEvaluationDir(join(dir, "runs"), MODEL, join(dir, "set"), join(dir, "set/b.csv")),
      join(dir, "runs", "detectors", "cgbench-small-set-b"),
    );
    const saved = JSON.parse(await Deno.readTextFile(join(where, "results.json")));
    assert.equal(saved.controls, undefined);
    assert.equal(saved.results.length, 2);
  });
});
