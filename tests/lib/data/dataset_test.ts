import assert from "node:assert/strict";
import { join } from "node:path";
import { describeRows, loadDataset, sourceOf } from "../../../lib/data/dataset.ts";
import { parseDatasetCsv } from "../../../lib/data/csv.ts";
import { buildManifest, manifestCsv } from "../../../lib/data/manifest.ts";
import { DatasetError } from "../../../lib/core/errors.ts";
import { SHIPPED, withTempDir } from "../../_helpers.ts";

Deno.test("dataset: the shipped dataset loads, classes named after their folders", async () => {
  const ds = await loadDataset(SHIPPED);
  assert.deepEqual(ds.classes.map((c) => [c.label, c.name, c.count]), [
    [0, "natural", 40],
    [1, "Cycles", 40],
    [2, "EEVEE", 40],
    [3, "POVRay", 40],
  ]);
  assert.equal(sourceOf("RAISE/x/y.png"), "RAISE");
});

Deno.test("dataset: the user's layout (RAISE+VISION natural, four renderers)", () => {
  const rows = parseDatasetCsv(
    "Name,Label\nRAISE/r.png,0\nVISION/v.png,0\nArtlantis/a.png,1\nAutodesk/b.png,2\nCorona/c.png,3\nVRay/d.png,4\n",
  );
  const ds = describeRows("/data", rows);
  assert.deepEqual(ds.classes.map((c) => c.name), [
    "natural",
    "Artlantis",
    "Autodesk",
    "Corona",
    "VRay",
  ]);
  assert.deepEqual(ds.classes[0].sources, ["RAISE", "VISION"]);
});

Deno.test("dataset: a label with no images is an error naming it", () => {
  const rows = parseDatasetCsv("Name,Label\nA/a.png,0\nB/b.png,1\nD/d.png,3\n");
  assert.throws(() => describeRows("/d", rows), /label\(s\) 2 have no images/);
  assert.throws(
    () => describeRows("/d", parseDatasetCsv("Name,Label\nA/a.png,0\n")),
    /only natural images/,
  );
  // renders alone (train-head's, loso's --renders): no label 0 needed, but still no gap
  const renders = parseDatasetCsv("Name,Label\nB/b.png,1\nC/c.png,2\n");
  assert.throws(() => describeRows("/d", renders), /label\(s\) 0 have no images/);
  assert.deepEqual(
    describeRows("/d", renders, undefined, false, true).classes.map((c) => c.name),
    ["B", "C"],
  );
  assert.throws(
    () =>
      describeRows(
        "/d",
        parseDatasetCsv("Name,Label\nB/b.png,1\nD/d.png,3\n"),
        undefined,
        false,
        true,
      ),
    /label\(s\) 2 have no images/,
  );
});

Deno.test("dataset: missing files are listed with CSV line numbers; missing CSV explains", async () => {
  await withTempDir(async (dir) => {
    await Deno.mkdir(join(dir, "A"));
    await Deno.writeFile(join(dir, "A/a.png"), new Uint8Array([1]));
    await assert.rejects(loadDataset(dir), /dataset\.csv.*not found.*manifest/);
    await Deno.writeTextFile(join(dir, "dataset.csv"), "Name,Label\nA/a.png,0\nB/gone.png,1\n");
    await assert.rejects(
      loadDataset(dir),
      (e) =>
        e instanceof DatasetError &&
        /1 listed file\(s\) missing: line 3: B\/gone\.png/.test(e.message),
    );
    await assert.rejects(loadDataset(join(dir, "nope")), /dataset folder not found/);
  });
});

Deno.test("manifest: folders become classes, natural ones label 0", async () => {
  await withTempDir(async (dir) => {
    for (const f of ["RAISE/sub", "VRay", "Corona", "empty"]) {
      await Deno.mkdir(join(dir, f), { recursive: true });
    }
    for (
      const p of [
        "RAISE/sub/1.png",
        "RAISE/2.JPG",
        "VRay/v.png",
        "Corona/c.tif",
        "Corona/notes.txt",
      ]
    ) {
      await Deno.writeFile(join(dir, p), new Uint8Array([0]));
    }
    const { rows, renderers } = await buildManifest(dir, ["RAISE"]);
    assert.deepEqual(renderers, ["Corona", "VRay"]);
    assert.equal(
      manifestCsv(rows),
      "Name,Label\nCorona/c.tif,1\nRAISE/2.JPG,0\nRAISE/sub/1.png,0\nVRay/v.png,2\n",
    );
    await assert.rejects(
      buildManifest(dir, ["RAISE", "VISION"]),
      /natural-image folder\(s\) not found: VISION/,
    );
  });
});
