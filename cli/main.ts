/**
 * The `cgvsni` command line: one entry point with subcommands, what a compiled binary runs.
 * Each `deno task` calls it with just the permissions its subcommand needs.
 *
 * ```
 * deno run <permissions> cli/main.ts <command> [flags]
 * ```
 *
 * Exit codes: 0 success; 1 an error (one line on stderr naming the file and the reason);
 * 2 a usage error (bad flag or value); 3 some inputs could not be used (listed; the rest were);
 * 75 training stopped on SIGTERM with a checkpoint written (run it again to resume).
 *
 * @module
 */

import { UsageError } from "../lib/core/errors.ts";
import { type Command, EXIT, explain, runCommand } from "./_args.ts";
import { demoCommand } from "./demo.ts";
import { detectCommand } from "./detect.ts";
import { evaluateCommand } from "./evaluate.ts";
import { experimentCommand } from "./experiment.ts";
import { featuresCommand } from "./features.ts";
import { calibrateCommand } from "./calibrate.ts";
import { runUnitCommand } from "./run_unit.ts";
import { statusCommand } from "./status.ts";
import { submitCommand } from "./submit.ts";
import { exportDetectorCommand } from "./export_detector.ts";
import { manifestCommand } from "./manifest.ts";
import { makeNaturalCommand } from "./make_natural.ts";
import { losoCommand } from "./loso.ts";
import { oneclassMatrixCommand } from "./oneclass_matrix.ts";
import { reportCommand } from "./report.ts";
import { robustnessCommand } from "./robustness.ts";
import { trainMapCommand } from "./train_map.ts";
import { trainOneClassCommand } from "./train_oneclass.ts";
import { trainHeadCommand } from "./train_head.ts";

/** Every subcommand, in help order. */
export const COMMANDS: Command[] = [
  trainMapCommand,
  trainOneClassCommand,
  trainHeadCommand,
  featuresCommand,
  evaluateCommand,
  experimentCommand,
  oneclassMatrixCommand,
  robustnessCommand,
  detectCommand,
  reportCommand,
  demoCommand,
  exportDetectorCommand,
  calibrateCommand,
  manifestCommand,
  makeNaturalCommand,
  losoCommand,
  submitCommand,
  statusCommand,
  runUnitCommand,
];

function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "cgvsni: tell computer-generated images from natural photographs",
    "",
    "usage: cgvsni <command> [flags]      (cgvsni <command> --help for its flags)",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
  ].join("\n");
}

/** Runs the CLI on `argv`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const cmd = COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
  if (!cmd) {
    const { line, code } = explain(
      new UsageError(
        `unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(", ")})`,
      ),
    );
    console.error(line);
    return code;
  }
  if (name !== cmd.name) {
    console.error(`note: ${name} is an old name of ${cmd.name}, and will go in a later release`);
  }
  return await runCommand(cmd, rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
