/**
 * tasks/loso_calls.ts reads what a LOSO run called: the photographs called computer-generated
 * from its scores.csv, source by source over the summary's sources, and the renders' shares from
 * its results.
 */
import assert from "node:assert/strict";
import type { LosoResult } from "../../lib/eval/loso.ts";
import { runCalls } from "../../tasks/loso_calls.ts";

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
