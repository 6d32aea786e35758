/**
 * The `cgvsni` command line: one entry point with subcommands, what a compiled binary runs.
 * Each `deno task` calls it with just the permissions its subcommand needs.
 *
 * ```
 * deno run <permissions> cli/main.ts <command> [flags]
 * ```
 *
 * Exit codes: 0 success; 1 an error (one line on stderr naming the file and the reason);
 * 2 a usage error (bad flag or value).
 *
 * @module
 */

import { CgvsniError, oneLine, UsageError } from "../lib/core/errors.ts";
import { type Command, helpText, parse } from "./_args.ts";
import { manifestCommand } from "./manifest.ts";
import { demoCommand } from "./demo.ts";
import { detectCommand } from "./detect.ts";
import { evaluateCommand } from "./evaluate.ts";
import { experimentCommand } from "./experiment.ts";
import { exportDetectorCommand } from "./export_detector.ts";
import { reportCommand } from "./report.ts";
import { trainFlowCommand } from "./train_flow.ts";
import { trainMapCommand } from "./train_map.ts";

/** Every subcommand, in help order. */
export const COMMANDS: Command[] = [
  trainMapCommand,
  trainFlowCommand,
  evaluateCommand,
  experimentCommand,
  detectCommand,
  reportCommand,
  demoCommand,
  exportDetectorCommand,
  manifestCommand,
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
    return name ? 0 : 2;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  try {
    if (!cmd) {
      throw new UsageError(
        `unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(", ")})`,
      );
    }
    const args = parse(cmd, rest);
    if (args.values.help) {
      console.log(helpText(cmd));
      return 0;
    }
    return await cmd.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${oneLine(e)}`);
      return 2;
    }
    if (e instanceof CgvsniError) {
      console.error(`error: ${oneLine(e)}`);
      return 1;
    }
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      console.error(`error: permission denied: ${oneLine(e)}`);
      return 1;
    }
    console.error(`internal error: ${oneLine(e)}`);
    if (Deno.permissions.querySync({ name: "env", variable: "CGVSNI_DEBUG" }).state === "granted") {
      if (Deno.env.get("CGVSNI_DEBUG")) console.error((e as Error).stack);
    }
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
