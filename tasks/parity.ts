/**
 * Correctness against an independent implementation: builds an ENet (seeded, then trained a few
 * steps so weights and BN running statistics are non-trivial), runs a batch of real crops from
 * the shipped dataset through it, exports weights and batch, runs the same architecture in
 * PyTorch (tasks/py/enet_torch.py, Debian's python3-torch) and compares the logits.
 *
 *   deno task parity [--preset small|paper] [--tolerance 1e-3] [--backend auto]
 *
 * Exits 1 if any logit differs by more than the tolerance. Catches padding, stride, layout and
 * flatten-order mistakes that no unit test of our own code would.
 *
 * @module
 */

import { BACKEND_FLAG, type Command, num, runCommand, str } from "../cli/_args.ts";
import { UsageError } from "../lib/core/errors.ts";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { tf } from "../lib/core/deps.ts";
import { initBackend } from "../lib/backends/select.ts";
import { saveBundle } from "../lib/core/bundle.ts";
import { channelStats, toBatch } from "../lib/data/batch.ts";
import { loadDataset } from "../lib/data/dataset.ts";
import { centerCrop } from "../lib/data/image.ts";
import { readImage } from "../lib/data/decode.ts";
import { ENet, parameterCount, PRESETS } from "../lib/map/enet.ts";
import { saveENet } from "../lib/map/io.ts";
import { SgdMomentum } from "../lib/backends/optim.ts";
import { trainStep } from "../lib/map/step.ts";

/** Result of one parity check. */
export interface ParityResult {
  preset: string;
  maxAbsDiff: number;
  maxAbsLogit: number;
  images: number;
  torch: string;
  torchParams: number;
  ourParams: number;
}

const PY = fileURLToPath(new URL("./py/parity.py", import.meta.url));
const DATASET = fileURLToPath(new URL("../dataset/", import.meta.url));

/** Runs the check for one preset. */
export async function parity(
  presetName: string,
  python = "/usr/bin/python3",
): Promise<ParityResult> {
  const cfg = PRESETS[presetName];
  const ds = await loadDataset(DATASET);
  const pick = [
    ...ds.images.filter((i) => i.label === 0).slice(0, 2),
    ...ds.images.filter((i) => i.label > 0).slice(0, 2),
  ];
  const crops = await Promise.all(
    pick.map(async (i) => centerCrop(await readImage(i.path), cfg.crop)),
  );
  const norm = channelStats(crops);
  const x = toBatch(crops, norm);
  const net = ENet.create(cfg, 11);
  const opt = new SgdMomentum(net.trainable(), 0.9);
  for (let s = 0; s < 3; s++) {
    await trainStep(net, opt, x, [0, 0, 1, 1], { lr: 1e-3, dropoutSeed: s });
  }
  opt.dispose();
  const ours = tf.tidy(() =>
    net.forward(tf.tensor4d(x, [4, cfg.crop, cfg.crop, 3]), false).logits.dataSync()
  );
  const dir = await Deno.makeTempDir({ prefix: "cgvsni-parity-" });
  try {
    await saveENet(dir, net, norm);
    await saveBundle(dir, "batch", "cgvsni-batch/1", [{
      name: "x",
      shape: [4, cfg.crop, cfg.crop, 3],
      data: x,
    }]);
    const out = await new Deno.Command(python, {
      args: [PY, dir],
      cwd: join(PY, ".."),
      stderr: "piped",
      stdout: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `PyTorch side failed: ${new TextDecoder().decode(out.stderr).trim().split("\n").pop()}`,
      );
    }
    const theirs = JSON.parse(new TextDecoder().decode(out.stdout));
    let diff = 0, mag = 0;
    (theirs.logits as number[]).forEach((v, i) => {
      diff = Math.max(diff, Math.abs(v - ours[i]));
      mag = Math.max(mag, Math.abs(v));
    });
    return {
      preset: presetName,
      maxAbsDiff: diff,
      maxAbsLogit: mag,
      images: 4,
      torch: theirs.torch,
      torchParams: theirs.params,
      ourParams: parameterCount(cfg),
    };
  } finally {
    net.dispose();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The `parity` task. */
export const parityCommand: Command = {
  name: "parity",
  usage: "[--preset small|paper]... [--tolerance X]",
  summary:
    "Compare ENet's logits with an independent PyTorch implementation (tasks/py/enet_torch.py).",
  description: `
Builds ENet with the same seeded weights in cgvsni and in PyTorch (Debian python3-torch), runs
both on the same crops of dataset/, and compares the logits and the parameter counts. Exit 1 if
a difference is above --tolerance or the counts differ.`,
  permissions:
    "--allow-read --allow-write (temporary folder) --allow-run=/usr/bin/python3 --allow-env --allow-ffi",
  writes: "a temporary folder, removed afterwards",
  flags: [
    { name: "preset", type: "string", arg: "P", help: "small or paper (default: both)" },
    {
      name: "tolerance",
      type: "string",
      arg: "X",
      default: "1e-3",
      help: "largest |logit difference| that passes",
    },
    {
      name: "python",
      type: "string",
      arg: "PATH",
      default: "/usr/bin/python3",
      help: "Python with torch",
    },
    BACKEND_FLAG,
  ],
  async run(a) {
    const backend = await initBackend(str(a, "backend", "auto") as "auto");
    const tol = num(a, "tolerance", { min: 0 }) ?? 1e-3;
    const preset = str(a, "preset");
    if (preset && !["small", "paper"].includes(preset)) {
      throw new UsageError(`--preset must be small or paper, got "${preset}"`);
    }
    let ok = true;
    for (const p of preset ? [preset] : ["small", "paper"]) {
      const r = await parity(p, str(a, "python", "/usr/bin/python3")!);
      const pass = r.maxAbsDiff <= tol && r.torchParams === r.ourParams;
      ok &&= pass;
      console.log(
        `${pass ? "PASS" : "FAIL"} ${p}: max |logit diff| ${
          r.maxAbsDiff.toExponential(2)
        } (logits up to ${
          r.maxAbsLogit.toFixed(3)
        }, tolerance ${tol}); parameters cgvsni ${r.ourParams} / PyTorch ${r.torchParams}; ` +
          `backend ${backend.name}, torch ${r.torch}`,
      );
    }
    return ok ? 0 : 1;
  },
};

if (import.meta.main) Deno.exit(await runCommand(parityCommand, Deno.args));
