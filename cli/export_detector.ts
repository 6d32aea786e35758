/**
 * `cgvsni export-detector`: package a map run and one of its one-class runs as a detector folder.
 *
 * @module
 */

import { join, resolve } from "node:path";
import type { BackendName } from "../lib/backends/select.ts";
import { initBackend } from "../lib/backends/select.ts";
import { detectorFromRun } from "../lib/detect/detector.ts";
import { UsageError } from "../lib/core/errors.ts";
import { runPath } from "../lib/runs/folder.ts";
import { BACKEND_FLAG, type Command, num, str } from "./_args.ts";

/** The `export-detector` command. */
export const exportDetectorCommand: Command = {
  name: "export-detector",
  usage: "--model-name RUN --out DIR [--flow NAME]",
  summary:
    "Write a detector folder (ENet + one-class model + detector.json) for detect and loadDetector().",
  permissions:
    "--allow-read --allow-write=runs,models --allow-env=IMAGESCRIPT_WASM_SIMD,CGVSNI_DNNL,CGVSNI_POOL_MB --allow-ffi --allow-sys=systemMemoryInfo",
  flags: [
    { name: "model-name", type: "string", arg: "RUN", help: "the map run" },
    {
      name: "flow",
      type: "string",
      arg: "NAME",
      default: "flow",
      help: "the one-class run inside RUN",
    },
    { name: "runs", type: "string", arg: "DIR", default: "runs", help: "folder of run folders" },
    { name: "out", type: "string", arg: "DIR", help: "the detector folder to write" },
    {
      name: "unsure",
      type: "string",
      arg: "X",
      default: "0.1",
      help: "half-width of the unsure band, fraction of R^2",
    },
    BACKEND_FLAG,
  ],
  async run(a) {
    const name = str(a, "model-name"), out = str(a, "out");
    if (!name || !out) {
      throw new UsageError("export-detector: --model-name and --out are required (see --help)");
    }
    await initBackend(str(a, "backend", "auto") as BackendName);
    const det = await detectorFromRun(
      runPath(resolve(str(a, "runs", "runs")!), name),
      str(a, "flow", "flow"),
      num(a, "unsure", { min: 0 }),
    );
    await det.save(out);
    det.dispose();
    console.log(`detector written to ${join(out, "detector.json")}`);
    return 0;
  },
};
