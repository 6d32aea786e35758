/**
 * `detect --shard i/N` then `--merge`: the same rows, in the same order, with the same numbers
 * and errors as one process prints, in every output format; and `--shards N` through the local
 * executor's graph. A merge with a shard missing names it. `evaluate --detector --test-data` in
 * shards merges into the evaluation one process makes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { main } from "../../../cli/main.ts";
import { mergeShards, type OutputMode } from "../../../cli/detect.ts";
import { SHIPPED, testBackend, withTempDir } from "../../_helpers.ts";
import { loadDataset } from "../../../lib/data/dataset.ts";
import { loadDetector } from "../../../lib/detect/detector.ts";
import {
  evaluateDetector,
  mergeDetectorEvaluation,
  scoreDetectorShard,
} from "../../../lib/eval/evaluate_detector.ts";
import { makeProgress } from "../../../lib/core/progress.ts";

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  try {
    const code = await main(argv);
    return { code, out: out.map((l) => l + "\n").join("") };
  } finally {
    console.log = log;
  }
}

/** Seven images of every class, an undecodable file, and a path that does not exist. */
async function inputs(dir: string): Promise<string[]> {
  const folder = join(dir, "in");
  for (const c of ["Photos", "Cycles", "POVRay"]) {
    await Deno.mkdir(join(folder, c), { recursive: true });
    const names = (await Array.fromAsync(Deno.readDir(join(SHIPPED, c)))).map((e) => e.name)
      .sort().slice(0, 3);
    for (const n of names) await Deno.copyFile(join(SHIPPED, c, n), join(folder, c, n));
  }
  await Deno.writeTextFile(join(folder, "Cycles", "broken.png"), "not a png");
  return [folder, join(dir, "missing.png")];
}

/** The profile detector, a few times faster than the default: the sharding is what is tested. */
const FAST = ["--detector", new URL("../../../models/corpus-profile/", import.meta.url).pathname];

const MODES: OutputMode[] = ["table", "csv", "json", "jsonl"];
const flag = (m: OutputMode) => (m === "table" ? [] : [`--${m}`]);

Deno.test("detect shards: merged shards print what one process prints, in every format", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const paths = await inputs(dir);
    const out = join(dir, "sharded");
    for (let i = 1; i <= 4; i++) {
      const r = await capture([
        "detect",
        ...FAST,
        ...paths,
        "--quiet",
        "--shard",
        `${i}/4`,
        "--out",
        out,
      ]);
      assert.equal(r.out, "", "a shard prints nothing: its output is its file");
      assert.ok(r.code === 0 || r.code === 3, `shard ${i} exit ${r.code}`);
    }
    for (const mode of MODES) {
      const one = await capture(["detect", ...FAST, ...paths, "--quiet", ...flag(mode)]);
      assert.equal(one.code, 3, "two inputs cannot be scored");
      const merged = await mergeShards(out, mode);
      assert.equal(merged.text, one.out, mode);
      assert.equal(merged.errors, 2);
      assert.equal(merged.scored, 9);
    }
    const json = JSON.parse((await mergeShards(out, "json")).text);
    assert.deepEqual(json.errors.map((e: { file: string }) => e.file.split("/").pop()), [
      "missing.png",
      "broken.png",
    ]);
    assert.ok(json.results.every((r: { score: number }) => Number.isFinite(r.score)));

    await Deno.remove(join(out, "shards", "shard-0003-of-0004.jsonl"));
    await assert.rejects(mergeShards(out, "csv"), /1 of 4 shards missing \(shard-0003-of-0004/);
  });
});

Deno.test("detect shards: --shards N runs a graph here whose merge equals one process", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const paths = await inputs(dir);
    const one = await capture(["detect", ...FAST, ...paths, "--quiet", "--csv"]);
    const out = join(dir, "graph");
    const r = await capture([
      "detect",
      ...FAST,
      ...paths,
      "--quiet",
      "--csv",
      "--shards",
      "3",
      "--out",
      out,
    ]);
    assert.equal(r.code, one.code, "exit 3 as one process: two inputs could not be scored");
    assert.equal(await Deno.readTextFile(join(out, "results.csv")), one.out);
    assert.equal(r.out, one.out, "and prints it");
    const units = (await Array.fromAsync(Deno.readDir(join(out, "units", "detect")))).map((e) =>
      e.name
    ).sort();
    assert.deepEqual(units, [1, 2, 3].map((i) => `shard-000${i}-of-0003.done`));
    assert.equal(
      (await capture(["detect", ...FAST, ...paths, "--shard", "1/2"])).code,
      2,
      "--shard needs --out",
    );
  });
});

Deno.test("evaluate shards: a detector's evaluation from 3 shards equals one process's, controls and intervals included", async () => {
  await testBackend();
  await withTempDir(async (dir) => {
    const ds = await loadDataset(SHIPPED);
    const picked = ds.classes.flatMap((c) =>
      ds.images.filter((i) => i.label === c.label).slice(0, c.label === 0 ? 6 : 3)
    );
    const data = join(dir, "data");
    for (const i of picked) {
      await Deno.mkdir(join(data, i.name, ".."), { recursive: true });
      await Deno.copyFile(i.path, join(data, i.name));
    }
    await Deno.writeTextFile(join(data, "Cycles/broken.png"), "not a png");
    const rows = [...picked.map((i) => `${i.name},${i.label}`), "Cycles/broken.png,1"];
    await Deno.writeTextFile(join(data, "dataset.csv"), ["Name,Label", ...rows].join("\n"));
    const det = await loadDetector(new URL("../../../models/cgbench-small/", import.meta.url));
    try {
      const o = {
        testData: data,
        bootstrap: 100,
        progress: makeProgress({ quiet: true }),
      };
      const one = await evaluateDetector(det, { ...o, out: join(dir, "one") });
      const out = join(dir, "sharded");
      await scoreDetectorShard(det, { ...o, out, shard: { index: 1, count: 3 } });
      await scoreDetectorShard(det, { ...o, out, shard: { index: 3, count: 3 } });
      await assert.rejects(mergeDetectorEvaluation(det, { ...o, out }), /shard-0002-of-0003/);
      await scoreDetectorShard(det, { ...o, out, shard: { index: 2, count: 3 } });
      const merged = await mergeDetectorEvaluation(det, { ...o, out });
      const strip = ({ created: _c, dir: _d, ...ev }: typeof one) => ev;
      assert.deepEqual(strip(merged), strip(one));
      assert.equal(one.images.length, 15);
      assert.equal(one.skipped.length, 1, "the missing file is skipped, in both");
      assert.ok(one.controls, "controls computed");
      assert.equal(
        await Deno.readTextFile(join(out, "results.md")),
        await Deno.readTextFile(join(dir, "one", "results.md")),
      );
    } finally {
      det.dispose();
    }
  });
});
