/**
 * `cgvsni export-detector`: package a map run and one of its one-class runs as a detector folder.
 *
 * @module
 */

import { DEFAULT_ONECLASS_RUN } from "../lib/oneclass/train.ts";
import { join, resolve } from "node:path";
import type { BackendName } from "../lib/backends/select.ts";
import { initBackend } from "../lib/backends/select.ts";
import { DEFAULT_UNSURE, detectorFromRun } from "../lib/detect/detector.ts";
import { UsageError } from "../lib/core/errors.ts";
import { type Command, COMPUTE_FLAGS, num, ONECLASS_RUN_FLAG, RUNS_FLAG, str } from "./_args.ts";
import { ENV } from "./_perms.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";

/** The `export-detector` command. */
export const exportDetectorCommand: Command = {
  name: "export-detector",
  usage: "--map RUN --out DIR [--oneclass-run NAME]",
  summary:
    "Write a detector folder (ENet + one-class model + detector.json) for detect and loadDetector().",
  permissions:
    `--allow-read --allow-write=runs,models --allow-env=${ENV} --allow-ffi --allow-sys=systemMemoryInfo,osRelease,loadavg`,
  writes: "--out DIR (runs/ or models/; elsewhere needs --allow-write=DIR)",
  flags: [
    { name: "map", type: "string", arg: "RUN", help: "the map run" },
    ONECLASS_RUN_FLAG,
    RUNS_FLAG,
    { name: "out", type: "string", arg: "DIR", help: "the detector folder to write" },
    {
      name: "unsure",
      type: "string",
      arg: "X",
      default: String(DEFAULT_UNSURE),
      help: "half-width of the one-class unsure band, fraction of |threshold|",
    },
    ...COMPUTE_FLAGS,
  ],
  async run(a) {
    const name = str(a, "map"), out = str(a, "out");
    if (!name || !out) {
      throw new UsageError("export-detector: --map and --out are required (see --help)");
    }
    await initBackend(str(a, "backend", "auto") as BackendName);
    const det = await detectorFromRun(
      resolve(str(a, "runs", DEFAULT_RUNS)!),
      name,
      str(a, "oneclass-run", DEFAULT_ONECLASS_RUN)!,
      {
        unsure: num(a, "unsure", { min: 0 }),
      },
    );
    await det.save(out);
    det.dispose();
    console.log(`detector written to ${join(out, "detector.json")}`);
    return 0;
  },
};
