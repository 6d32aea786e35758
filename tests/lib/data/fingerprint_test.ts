import assert from "node:assert/strict";
import { join } from "node:path";
import { fileFingerprint, fileFingerprints } from "../../../lib/data/mod.ts";
import { withTempDir } from "../../_helpers.ts";

Deno.test("data: a file's fingerprint follows its bytes, not its name, time or place", async () => {
  await withTempDir(async (dir) => {
    const src = "dataset/Cycles/cycles_00000.png", copy = join(dir, "copy.png");
    await Deno.copyFile(src, copy);
    await Deno.utime(copy, 0, 0);
    const a = await fileFingerprint(src);
    assert.match(a, /^\d+:[0-9a-f]{64}$/);
    assert.equal(await fileFingerprint(copy), a);
    // one byte changed at either end, or the size changed: another fingerprint
    const bytes = await Deno.readFile(src);
    for (const at of [0, bytes.length - 1]) {
      const changed = bytes.slice();
      changed[at] ^= 1;
      await Deno.writeFile(copy, changed);
      assert.notEqual(await fileFingerprint(copy), a);
    }
    await Deno.writeFile(copy, bytes.subarray(0, bytes.length - 1));
    assert.notEqual(await fileFingerprint(copy), a);
    assert.equal(await fileFingerprint(join(dir, "absent.png")), "unreadable");
    const many = await fileFingerprints([src, src, join(dir, "absent.png")]);
    assert.equal(many.size, 2);
    assert.equal(many.get(src), a);
    assert.equal(many.get(join(dir, "absent.png")), "unreadable");
  });
});
