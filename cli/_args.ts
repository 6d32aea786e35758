/**
 * Subcommand plumbing: each command declares its flags once (name, type, help, default) and
 * gets parsing, validation of numbers and `--help` text from that declaration.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UsageError } from "../lib/core/errors.ts";

/** One command-line flag. */
export interface Flag {
  name: string;
  type: "string" | "boolean";
  help: string;
  /** Shown in help; for strings, the value used when the flag is absent. */
  default?: string | boolean;
  /** Placeholder in help (`--lr X`). */
  arg?: string;
  short?: string;
}

/** A subcommand. */
export interface Command {
  name: string;
  summary: string;
  /** Usage line after the command name, e.g. `[flags] PATH...`. */
  usage: string;
  /** Longer description printed by `--help`. */
  description?: string;
  /** The permissions `deno task <name>` runs with, for the help text. */
  permissions: string;
  flags: Flag[];
  run(args: ParsedArgs): Promise<number>;
}

/** Parsed flags and positionals. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Flags every command has. */
export const COMMON_FLAGS: Flag[] = [
  { name: "help", type: "boolean", short: "h", help: "show this help and exit" },
];

/** Parses `argv` against the command's flags; unknown flags are usage errors. */
export function parse(cmd: Command, argv: string[]): ParsedArgs {
  const flags = [...cmd.flags, ...COMMON_FLAGS];
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const f of flags) options[f.name] = { type: f.type, ...(f.short ? { short: f.short } : {}) };
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (e) {
    throw new UsageError(
      `${cmd.name}: ${(e as Error).message.replace(/\. To specify.*$/, "")} (see --help)`,
    );
  }
}

/** The `--help` text of a command. */
export function helpText(cmd: Command): string {
  const lines = [`cgvsni ${cmd.name} ${cmd.usage}`, "", cmd.summary];
  if (cmd.description) lines.push("", cmd.description.trim());
  lines.push("", "Flags:");
  const flags = [...cmd.flags, ...COMMON_FLAGS];
  const heads = flags.map((f) =>
    `  ${f.short ? `-${f.short}, ` : ""}--${f.name}${f.type === "string" ? ` ${f.arg ?? "X"}` : ""}`
  );
  const w = Math.min(34, Math.max(...heads.map((h) => h.length)) + 2);
  flags.forEach((f, i) => {
    const def = f.default !== undefined && f.default !== false ? ` (default: ${f.default})` : "";
    const head = heads[i].padEnd(w);
    lines.push(
      heads[i].length + 2 > w
        ? `${heads[i]}\n${" ".repeat(w)}${f.help}${def}`
        : `${head}${f.help}${def}`,
    );
  });
  lines.push("", `Permissions (deno task ${cmd.name}): ${cmd.permissions}`);
  return lines.join("\n");
}

/** A string flag, or its default. */
export function str(a: ParsedArgs, name: string, def?: string): string | undefined {
  const v = a.values[name];
  return typeof v === "string" ? v : def;
}

/** A numeric flag (`int` demands an integer); undefined when absent. */
export function num(
  a: ParsedArgs,
  name: string,
  opts: { int?: boolean; min?: number; max?: number } = {},
): number | undefined {
  const v = a.values[name];
  if (v === undefined) return undefined;
  const x = Number(v);
  if (
    typeof v !== "string" || v.trim() === "" || !Number.isFinite(x) ||
    (opts.int && !Number.isInteger(x))
  ) {
    throw new UsageError(`--${name} must be ${opts.int ? "an integer" : "a number"}, got "${v}"`);
  }
  if (opts.min !== undefined && x < opts.min) {
    throw new UsageError(`--${name} must be at least ${opts.min}, got ${x}`);
  }
  if (opts.max !== undefined && x > opts.max) {
    throw new UsageError(`--${name} must be at most ${opts.max}, got ${x}`);
  }
  return x;
}

/** A boolean flag. */
export function bool(a: ParsedArgs, name: string): boolean {
  return a.values[name] === true;
}

/** The `--backend` flag, shared by every command that runs a model. */
export const BACKEND_FLAG: Flag = {
  name: "backend",
  type: "string",
  arg: "NAME",
  default: "auto",
  help:
    "tfjs backend: auto|native|wasm|cpu|webgpu (auto: a real WebGPU adapter, else native BLAS, else wasm)",
};
