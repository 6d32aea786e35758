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
    // an unreadable file matches nothing, not even itself
    const absent = join(dir, "absent.png");
    assert.match(await fileFingerprint(absent), /^unreadable/);
    assert.notEqual(await fileFingerprint(absent), await fileFingerprint(absent));
    const many = await fileFingerprints([src, src, absent]);
    assert.equal(many.size, 2);
    assert.equal(many.get(src), a);
    assert.match(many.get(absent)!, /^unreadable/);
    // a large file (several read blocks) changed by one byte in its middle
    const big = new Uint8Array(3 * (1 << 20) + 12345).map((_, i) => (i * 7919) % 251);
    const bigPath = join(dir, "big.bin");
    await Deno.writeFile(bigPath, big);
    const before = await fileFingerprint(bigPath);
    big[big.length >> 1] ^= 1;
    await Deno.writeFile(bigPath, big);
    assert.notEqual(await fileFingerprint(bigPath), before);
  });
});
