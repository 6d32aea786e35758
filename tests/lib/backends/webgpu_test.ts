/**
 * The model code on tfjs's WebGPU backend against its reference `cpu` backend, on tiny shapes:
 * the small-preset ENet forward (logits and L9 features), one training step, a NICE flow with
 * Adam and its SVDD scores (tasks/_gpu_parity.ts, which `deno task gpu-check` runs on a real
 * GPU). CI runs them on lavapipe, Mesa's software Vulkan device (Debian `mesa-vulkan-drivers`,
 * installed by .ci/run). Where an adapter cannot run a kernel, the failure names it.
 */
import assert from "node:assert/strict";
import { probeWebGpu } from "../../../lib/backends/select.ts";
import { CHECKS, compareWithCpu } from "../../../tasks/_gpu_parity.ts";
import { testBackend } from "../../_helpers.ts";

const probe = await probeWebGpu(true);

for (const check of Object.keys(CHECKS) as (keyof typeof CHECKS)[]) {
  Deno.test({
    name: `webgpu: ${check} within 1e-3 of the cpu backend (${probe.detail})`,
    ignore: !probe.ok,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const r = await compareWithCpu(check, "webgpu", (await testBackend()).name);
      for (const [name, d] of Object.entries(r.worst)) {
        assert.ok(d <= 1e-3, `${name} differs by ${d}`);
      }
    },
  });
}
