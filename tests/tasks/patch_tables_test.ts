/**
 * The patch tables for tasks/py/patch_check.py (tasks/patch_tables.ts): one index row per image and
 * scale, each pointing at exactly that image's `profilePatches` (E1..E4 and C) in the binary file,
 * the label filter as asked, and an unreadable image named.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readImage } from "../../lib/data/decode.ts";
import { profilePatches } from "../../lib/features/profile.ts";
import { SHIPPED, withTempDir } from "../_helpers.ts";

const SCRIPT = new URL("../../tasks/patch_tables.ts", import.meta.url).pathname;

/** Runs the script; its exit code and stderr. */
async function tables(dataset: string, labels: string, out: string) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-ffi",
      "--allow-env",
      "--allow-sys",
      SCRIPT,
      "--dataset",
      dataset,
      "--labels",
      labels,
      "--out",
      out,
    ],
  }).output();
  return { code: r.code, stderr: new TextDecoder().decode(r.stderr) };
}

Deno.test("patch_tables: each image's patches at each scale, as profilePatches gives them", async () => {
  await withTempDir(async (dir) => {
    const csv = "Name,Label\nPhotos/photo_00001.png,0\nPhotos/photo_00010.png,0\n" +
      "Cycles/cycles_00000.png,1\n";
    await Deno.writeTextFile(join(dir, "dataset.csv"), csv);
    for (
      const name of ["Photos/photo_00001.png", "Photos/photo_00010.png", "Cycles/cycles_00000.png"]
    ) {
      await Deno.mkdir(join(dir, name.split("/")[0]), { recursive: true });
      await Deno.copyFile(join(SHIPPED, name), join(dir, name));
    }
    const r = await tables(dir, "natural", join(dir, "out", "natural"));
    assert.equal(r.code, 0, r.stderr);
    const index = (await Deno.readTextFile(join(dir, "out", "natural.csv"))).trim().split("\n");
    assert.equal(index[0], "name,label,group,scale,first,patches");
    assert.equal(index.length, 1 + 2 * 3); // the two photographs, three scales each; no render
    const bin = new Float32Array((await Deno.readFile(join(dir, "out", "natural.bin"))).buffer);
    let next = 0;
    for (const line of index.slice(1)) {
      const [name, label, group, scale, first, patches] = line.split(",");
      assert.equal(label, "0");
      assert.equal(group, '"Photos"');
      assert.equal(Number(first), next);
      const cols = profilePatches(await readImage(join(dir, JSON.parse(name))))[Number(scale)];
      assert.equal(Number(patches), cols[0].length);
      for (let p = 0; p < cols[0].length; p++) {
        [0, 1, 2, 3, 8].forEach((c, j) =>
          assert.equal(bin[(next + p) * 5 + j], Math.fround(cols[c][p]))
        );
      }
      next += Number(patches);
    }
    assert.equal(bin.length, next * 5);
    // an image it cannot read is named
    await Deno.writeTextFile(join(dir, "Cycles", "cycles_00000.png"), "not a picture");
    const bad = await tables(dir, "renders", join(dir, "out", "renders"));
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Cycles\/cycles_00000\.png/);
  });
});
