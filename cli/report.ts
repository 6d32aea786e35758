/**
 * `cgvsni report`: one self-contained HTML page for a run.
 *
 * @module
 */

import { DEFAULT_ONECLASS_RUN } from "../lib/oneclass/train.ts";
import { resolve } from "node:path";
import { UsageError } from "../lib/core/errors.ts";
import { writeReport } from "../lib/eval/report.ts";
import { type Command, ONECLASS_RUN_FLAG, RUNS_FLAG, str } from "./_args.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";

/** The `report` command. */
export const reportCommand: Command = {
  name: "report",
  usage: "--map RUN [--oneclass-run NAME[,NAME...]]",
  summary:
    "Write runs/RUN/report.html: dataset, configuration, training curves, evaluation tables and plots.",
  description: `
One HTML file with inline styles and SVG plots: opens in any browser without a server or network.
Sections that are not computed yet (one-class model, evaluation) say so. Several one-class runs
(--oneclass-run flow,residual-gauss) get a section each, one after the other.`,
  permissions: "--allow-read --allow-write=runs",
  writes: "RUN/report.html",
  flags: [
    { name: "map", type: "string", arg: "RUN", help: "the map run" },
    ONECLASS_RUN_FLAG,
    RUNS_FLAG,
  ],
  async run(a) {
    const name = str(a, "map");
    if (!name) throw new UsageError("report: --map RUN is required (see --help)");
    console.log(
      await writeReport(
        resolve(str(a, "runs", DEFAULT_RUNS)!),
        name,
        str(a, "oneclass-run", DEFAULT_ONECLASS_RUN)!.split(",").map((s) => s.trim()).filter(
          Boolean,
        ),
      ),
    );
    return 0;
  },
};
