/**
 * tasks/loso_calls.ts reads what a LOSO run called: the photographs called computer-generated
 * from its scores.csv, source by source over the summary's sources, and the renders' shares from
 * its results.
 */
import assert from "node:assert/strict";
import type { LosoResult } from "../../lib/eval/loso.ts";
import { acrossSets, chanceAllUnder, type RunCalls, runCalls } from "../../tasks/loso_calls.ts";

Deno.test("loso_calls: photographs called CG per summary source, renders' shares per renderer", () => {
  const calls = (cg: number, unsure: number) => ({ cg, unsure, natural: 1 - cg - unsure });
  const row = (source: string, images: number) => ({
    source,
    images,
    recall: 0.5,
    unsure: 0.25,
    auc: { A: 0.8, B: 0.6 },
    meanAuc: 0.7,
    calls: { A: calls(0.5, 0.1), B: calls(0.1, 0.3) },
  });
  const r = {
    minImages: 2,
    renderers: [{ name: "A", images: 4 }, { name: "B", images: 4 }],
    cells: [{
      rows: [row("big1", 4), row("big2", 2), row("small", 1)],
      mean: { recall: 0.5, unsure: 0.25, auc: 0.7 },
      worst: { recall: 0.5, unsure: 0.25, auc: 0.7 },
      renderers: { A: { cg: 0.5, unsure: 0.1 }, B: { cg: 0.1, unsure: 0.3 } },
    }],
  } as unknown as LosoResult;
  const header = ["features", "model", "source", "image", "score", "checks", "call"];
  const s = (source: string, call: string) => ["profile", "gauss", source, "x", "0", "", call];
  const scores = [
    header,
    s("big1", "computer-generated"),
    s("big1", "natural"),
    s("big1", "unsure"),
    s("big1", "natural"),
    s("big2", "computer-generated"),
    s("big2", "computer-generated"),
    s("small", "computer-generated"), // not a summary source
  ];
  const k = runCalls(r, scores);
  assert.equal(k.photosCg, (0.25 + 1) / 2);
  assert.deepEqual(k.rendersCg, { A: 0.5, B: 0.1 });
  assert.ok(Math.abs(k.rendersUnsure - 0.2) < 1e-12);
  assert.deepEqual(k.recall, [0.5, 0.5]);
  assert.throws(() => runCalls({ ...r, cells: [] }, scores), /one configuration/);
});

Deno.test("loso_calls: the chance that a calibrated band keeps every source at or under 0.10", () => {
  // ten photographs: at most one in the band, 0.9^10 + 10 · 0.1 · 0.9^9
  const one = 0.9 ** 10 + 10 * 0.1 * 0.9 ** 9;
  assert.ok(Math.abs(chanceAllUnder([10], 0.1) - one) < 1e-12);
  // independent sources multiply; a source of nine may have none in the band
  assert.ok(Math.abs(chanceAllUnder([10, 10, 9], 0.1) - one * one * 0.9 ** 9) < 1e-12);
  assert.equal(chanceAllUnder([50], 0), 1);
  assert.equal(chanceAllUnder([50], 1), 0);
  assert.ok(chanceAllUnder([100_000], 0.05) > 0.999); // 0.95^100000 underflows; its log does not
  // the wider the band, the smaller the chance
  assert.ok(chanceAllUnder([15, 15, 300], 0.01) > chanceAllUnder([15, 15, 300], 0.04));
});

Deno.test("loso_calls: one configuration against several sets of renders, on one line", () => {
  const run = (cg: [number, number], unsure: number, photosUnsure: number): RunCalls => ({
    recall: [0.95, 0.8],
    unsure: [photosUnsure, 0.1],
    photosCg: 0.03,
    auc: 0.9,
    rendersCg: { A: cg[0], B: cg[1] },
    rendersUnsure: unsure,
  });
  const x = acrossSets([run([0.5, 0.3], 0.1, 0.02), run([0.2, 0.2], 0.04, 0.5)]);
  assert.ok(Math.abs(x.rendersCg - 0.3) < 1e-12); // (0.4 + 0.2) / 2
  assert.ok(Math.abs(x.rendersUnsure - 0.07) < 1e-12);
  assert.ok(Math.abs(x.ratio - 3.5) < 1e-12); // over the first run's photographs
  assert.throws(() => acrossSets([]), /no runs/);
});
