import assert from "node:assert/strict";
import { describeRows, type ImageEntry, loadDataset } from "../../../lib/data/dataset.ts";
import { parseDatasetCsv } from "../../../lib/data/csv.ts";
import {
  applySplit,
  apportion,
  DEFAULT_FRACTIONS,
  formatSplit,
  makeSplit,
  parseFractions,
  splitCounts,
  splitFromLists,
} from "../../../lib/data/split.ts";
import { SHIPPED, withTempDir } from "../../_helpers.ts";

function synthetic(): ImageEntry[] {
  const lines = ["Name,Label,Group"];
  for (let i = 0; i < 57; i++) lines.push(`RAISE/r${i}.png,0,`);
  for (let i = 0; i < 23; i++) lines.push(`VISION/v${i}.png,0,`);
  for (let i = 0; i < 31; i++) lines.push(`Cycles/c${i}.png,1,scene${i}`);
  for (let i = 0; i < 40; i++) lines.push(`EEVEE/e${i}.png,2,scene${i}`);
  for (let i = 0; i < 13; i++) lines.push(`POV/p${i}.png,3,`);
  return describeRows("/d", parseDatasetCsv(lines.join("\n"))).images;
}

Deno.test("split: every image in exactly one role; no group straddles roles", () => {
  const s = makeSplit(synthetic(), DEFAULT_FRACTIONS, 1);
  assert.equal(new Set(s.map((e) => e.name)).size, s.length);
  const byGroup = new Map<string, Set<string>>();
  for (const e of s) byGroup.set(e.group, (byGroup.get(e.group) ?? new Set()).add(e.role));
  for (const [g, roles] of byGroup) assert.equal(roles.size, 1, `group ${g} in ${[...roles]}`);
  assert.ok(
    s.every((e) => e.role !== "oneclass" || e.label === 0),
    "only natural images in the one-class pool",
  );
});

Deno.test("split: the shipped dataset's roles are disjoint and cover every image", async () => {
  const ds = await loadDataset(SHIPPED);
  const s = makeSplit(ds.images, DEFAULT_FRACTIONS, 0);
  const roles = ["train", "val", "oneclass", "test"] as const;
  const sets = roles.map((r) => new Set(s.filter((e) => e.role === r).map((e) => e.name)));
  for (let i = 0; i < sets.length; i++) {
    for (let j = i + 1; j < sets.length; j++) {
      const both = [...sets[i]].filter((n) => sets[j].has(n));
      assert.deepEqual(both, [], `${roles[i]} and ${roles[j]} share images`);
    }
  }
  assert.equal(
    sets.reduce((n, x) => n + x.size, 0) + s.filter((e) => e.role === "unused").length,
    ds.images.length,
  );
});

Deno.test("split: stratified per source folder with exact proportions", () => {
  const s = makeSplit(synthetic(), DEFAULT_FRACTIONS, 3);
  const count = (src: string, role: string) =>
    s.filter((e) => e.source === src && e.role === role).length;
  assert.deepEqual(
    ["train", "val", "oneclass", "test"].map((r) => count("RAISE", r)),
    apportion(57, [0.4, 0.1, 0.2, 0.3]),
  );
  assert.deepEqual(
    ["train", "val", "oneclass", "test"].map((r) => count("VISION", r)),
    apportion(23, [0.4, 0.1, 0.2, 0.3]),
  );
  assert.deepEqual(
    ["train", "val", "test"].map((r) => count("POV", r)),
    apportion(13, [0.6, 0.1, 0.3]),
  );
  // the smallest grouped source gets exact counts, the other as close as its groups allow
  assert.deepEqual(
    ["train", "val", "test"].map((r) => count("Cycles", r)),
    apportion(31, [0.6, 0.1, 0.3]),
  );
});

Deno.test("split: deterministic for a seed, different across seeds", () => {
  const a = formatSplit(makeSplit(synthetic(), DEFAULT_FRACTIONS, 5));
  assert.equal(a, formatSplit(makeSplit(synthetic(), DEFAULT_FRACTIONS, 5)));
  assert.notEqual(a, formatSplit(makeSplit(synthetic(), DEFAULT_FRACTIONS, 6)));
});

Deno.test("split: written and read back unchanged; a changed dataset is detected", () => {
  const imgs = synthetic();
  const s = makeSplit(imgs, DEFAULT_FRACTIONS, 2);
  const back = applySplit(imgs, formatSplit(s));
  assert.deepEqual(back.map((e) => e.role), s.map((e) => e.role));
  const extra = [...imgs, { ...imgs[0], name: "RAISE/new.png" }];
  assert.throws(() => applySplit(extra, formatSplit(s)), /not in the run's split/);
  // a split file written before 0.3 names the one-class pool "flow": it is read as "oneclass"
  const old = formatSplit(s).replaceAll(",oneclass", ",flow");
  assert.ok(old.includes(",flow"));
  assert.deepEqual(applySplit(imgs, old).map((e) => e.role), s.map((e) => e.role));
});

Deno.test("split: fractions are validated; apportion sums exactly", () => {
  assert.deepEqual(parseFractions("0.5,0.2,0.3", 3, "--cg-split"), [0.5, 0.2, 0.3]);
  assert.throws(() => parseFractions("0.5,0.2", 3, "--cg-split"), /must be 3/);
  assert.throws(() => parseFractions("0.5,0.2,0.2", 3, "--cg-split"), /sum to 1/);
  for (const n of [0, 1, 7, 31, 1000]) {
    assert.equal(apportion(n, [0.4, 0.1, 0.2, 0.3]).reduce((a, b) => a + b), n);
  }
});

Deno.test("split: the authors' split lists map to roles by basename", async () => {
  const imgs = describeRows(
    "/d",
    parseDatasetCsv(
      "Name,Label\nRAISE/r1.png,0\nRAISE/r2.png,0\nRAISE/r3.png,0\nVISION/v1.png,0\nCorona/c1.png,1\nCorona/c2.png,1\nVRay/x.png,2\n",
    ),
  ).images;
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/NI_train_2.txt`, "r1.png\n");
    await Deno.writeTextFile(`${dir}/NI_val_1.txt`, "v1.png\n");
    await Deno.writeTextFile(`${dir}/NI_Corona_test_1.txt`, "r2.png\n");
    await Deno.writeTextFile(`${dir}/CG_Corona_train_1.txt`, "c1.png\n");
    await Deno.writeTextFile(`${dir}/CG_Corona_test_1.txt`, "c2.png\n");
    await Deno.writeTextFile(`${dir}/NI_RAISE_3.txt`, "r1.png\nr2.png\nr3.png\n");
    const s = await splitFromLists(imgs, dir);
    assert.deepEqual(s.map((e) => e.role), [
      "train",
      "test",
      "oneclass",
      "val",
      "train",
      "test",
      "unused",
    ]);
    const counts = splitCounts(s);
    assert.equal(counts.get(0)!.oneclass, 1);
    await Deno.writeTextFile(`${dir}/CG_VRay_test_1.txt`, "missing.png\n");
    await assert.rejects(
      splitFromLists(imgs, dir),
      /CG_VRay_test_1\.txt:1: not in dataset\.csv: missing\.png/,
    );
  });
});
