/**
 * `cgvsni export-detector`: package a map run and one of its one-class runs as a detector folder.
 *
 * @module
 */

import { DEFAULT_ONECLASS_RUN } from "../lib/oneclass/train.ts";
import { join, resolve } from "node:path";
import type { BackendName } from "../lib/backends/select.ts";
import { initBackend } from "../lib/backends/select.ts";
import {
  DEFAULT_UNSURE,
  detectorFromRun,
  detectorWithHead,
  detectorWithLinearHead,
  VERDICT_RULES,
} from "../lib/detect/detector.ts";
import { UsageError } from "../lib/core/errors.ts";
import {
  choice,
  type Command,
  COMPUTE_FLAGS,
  num,
  ONECLASS_RUN_FLAG,
  RUNS_FLAG,
  str,
} from "./_args.ts";
import { ENV } from "./_perms.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";

/** The `export-detector` command. */
export const exportDetectorCommand: Command = {
  name: "export-detector",
  usage:
    "--map RUN --out DIR [--oneclass-run NAME]   |   --head DETECTOR|--linear-head RUN --oneclass-run NAME --out DIR",
  summary:
    "Write a detector folder (a head, ENet or one on whole-image features, + one-class model + detector.json) for detect and loadDetector().",
  permissions:
    `--allow-read --allow-write=runs,models --allow-env=${ENV} --allow-ffi --allow-sys=systemMemoryInfo,osRelease,loadavg`,
  description: `
With --map, the map run RUN and its one-class run NAME (runs/RUN/NAME). With --head, another
detector's head (its map, p(CG) threshold and JPEG preparation) with a one-class run of its own
(runs/NAME, from train-oneclass --data: whole-image features, read as that run read its
photographs); --rule sets the verdict rule (default: the head detector's). With --linear-head,
a train-head run (RUN/head.json: logistic regression or an RBF-kernel SVM on whole-image
features) is the head, with
the one-class run runs/NAME; --rule defaults to head.`,
  writes: "--out DIR (runs/ or models/; elsewhere needs --allow-write=DIR)",
  flags: [
    { name: "map", type: "string", arg: "RUN", help: "the map run" },
    {
      name: "head",
      type: "string",
      arg: "DETECTOR",
      help: "instead of --map: the detector whose head is kept",
    },
    {
      name: "linear-head",
      type: "string",
      arg: "RUN",
      help: "instead of --map: a train-head run folder (its head.json)",
    },
    ONECLASS_RUN_FLAG,
    {
      name: "rule",
      type: "string",
      arg: "R",
      help: `with --head or --linear-head, the verdict rule: ${VERDICT_RULES.join("|")}`,
    },
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
    const name = str(a, "map"), head = str(a, "head"), out = str(a, "out");
    const linear = str(a, "linear-head");
    if ([name, head, linear].filter((x) => x).length !== 1 || !out) {
      throw new UsageError(
        "export-detector: give --out and one of --map, --head or --linear-head (see --help)",
      );
    }
    if (str(a, "rule") !== undefined && name) {
      throw new UsageError("export-detector: --rule goes with --head or --linear-head");
    }
    await initBackend(str(a, "backend", "auto") as BackendName);
    const runs = resolve(str(a, "runs", DEFAULT_RUNS)!);
    const oneclass = str(a, "oneclass-run", DEFAULT_ONECLASS_RUN)!;
    const unsure = num(a, "unsure", { min: 0 });
    const rule = choice(a, "rule", VERDICT_RULES);
    const det = head
      ? await detectorWithHead(head, runs, oneclass, { unsure, rule })
      : linear
      ? await detectorWithLinearHead(linear, runs, oneclass, { unsure, rule })
      : await detectorFromRun(runs, name, oneclass, { unsure });
    await det.save(out);
    det.dispose();
    console.log(`detector written to ${join(out, "detector.json")}`);
    return 0;
  },
};
