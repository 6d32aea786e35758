import assert from "node:assert/strict";
import { parity } from "../../tasks/parity.ts";
import { testBackend } from "../_helpers.ts";

const torch = await new Deno.Command("/usr/bin/python3", {
  args: ["-c", "import torch"],
  stderr: "null",
}).output()
  .then((o) => o.success).catch(() => false);

for (const preset of ["small", "paper"]) {
  Deno.test({
    name: `parity: ENet logits agree with PyTorch within 1e-3 (${preset} preset)`,
    ignore: !torch,
    async fn() {
      await testBackend();
      const r = await parity(preset);
      assert.equal(r.torchParams, r.ourParams);
      assert.ok(r.maxAbsDiff < 1e-3, `max |diff| ${r.maxAbsDiff}`);
      assert.ok(r.maxAbsLogit > 1e-2, "logits are not trivially zero");
    },
  });
}
