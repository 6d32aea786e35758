/**
 * `cgvsni report`: one self-contained HTML page for a run.
 *
 * @module
 */

import { resolve } from "node:path";
import { UsageError } from "../lib/core/errors.ts";
import { writeReport } from "../lib/eval/report.ts";
import { runPath } from "../lib/runs/folder.ts";
import { type Command, str } from "./_args.ts";

/** The `report` command. */
export const reportCommand: Command = {
  name: "report",
  usage: "--model-name RUN [--flow NAME]",
  summary:
    "Write runs/RUN/report.html: dataset, configuration, training curves, evaluation tables and plots.",
  description: `
One HTML file with inline styles and SVG plots: opens in any browser without a server or network.
Sections that are not computed yet (one-class model, evaluation) say so.`,
  permissions: "--allow-read --allow-write=runs",
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
  ],
  async run(a) {
    const name = str(a, "model-name");
    if (!name) throw new UsageError("report: --model-name RUN is required (see --help)");
    console.log(
      await writeReport(runPath(resolve(str(a, "runs", "runs")!), name), str(a, "flow", "flow")),
    );
    return 0;
  },
};
