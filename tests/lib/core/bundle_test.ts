import assert from "node:assert/strict";
import { join } from "node:path";
import { loadBundle, saveBundle } from "../../../lib/core/bundle.ts";
import { ModelError } from "../../../lib/core/errors.ts";
import { withTempDir } from "../../_helpers.ts";

const arrays = [
  { name: "a", shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
  { name: "b", shape: [1], data: new Float32Array([-7.5]) },
];

Deno.test("bundle: round trip in the tfjs weights-manifest format", async () => {
  await withTempDir(async (dir) => {
    await saveBundle(dir, "w", "test/1", arrays, { note: "x" });
    const man = JSON.parse(await Deno.readTextFile(join(dir, "w.json")));
    assert.deepEqual(man.weightsManifest[0].paths, ["w.bin"]);
    assert.deepEqual(man.weightsManifest[0].weights[0], {
      name: "a",
      shape: [2, 3],
      dtype: "float32",
    });
    const { arrays: got, manifest } = await loadBundle(dir, "w", { format: "test/1" });
    assert.equal(manifest.note, "x");
    assert.deepEqual(got.get("a")!.data, arrays[0].data);
    assert.deepEqual(got.get("b")!.data, arrays[1].data);
  });
});

Deno.test("bundle: corruption, truncation, wrong shapes and foreign paths are refused", async () => {
  await withTempDir(async (dir) => {
    await saveBundle(dir, "w", "test/1", arrays);
    const bin = await Deno.readFile(join(dir, "w.bin"));
    const flipped = bin.slice();
    flipped[5] ^= 1;
    await Deno.writeFile(join(dir, "w.bin"), flipped);
    await assert.rejects(
      loadBundle(dir, "w"),
      (e) => e instanceof ModelError && /checksum mismatch/.test(e.message),
    );
    await Deno.writeFile(join(dir, "w.bin"), bin.subarray(0, 8));
    await assert.rejects(loadBundle(dir, "w"), /8 bytes, manifest says 28/);
    await Deno.writeFile(join(dir, "w.bin"), bin);
    await assert.rejects(loadBundle(dir, "w", { format: "other/1" }), /format is "test\/1"/);
    await assert.rejects(
      loadBundle(dir, "w", { shapes: new Map([["a", [3, 2]], ["b", [1]]]) }),
      /a has shape \[2,3\], the model needs \[3,2\]/,
    );
    await assert.rejects(
      loadBundle(dir, "w", { shapes: new Map([["a", [2, 3]]]) }),
      /unexpected weight b/,
    );
    const man = JSON.parse(await Deno.readTextFile(join(dir, "w.json")));
    man.weightsManifest[0].paths = ["../../etc/passwd"];
    await Deno.writeTextFile(join(dir, "w.json"), JSON.stringify(man));
    await assert.rejects(loadBundle(dir, "w"), /must be a plain file name/);
    await Deno.writeTextFile(join(dir, "w.json"), "{not json");
    await assert.rejects(loadBundle(dir, "w"), /not valid JSON/);
    await assert.rejects(loadBundle(dir, "missing"), /missing\.json: not found/);
  });
});
