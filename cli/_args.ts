/**
 * Command plumbing shared by the CLI and the maintenance tasks: each command declares its flags
 * once (name, type, help, default; old names in one table) and gets parsing, number checks, `--help` text and
 * the exit-code contract from that declaration:
 *
 * - 0 success; 1 an error (one line naming the file and the reason); 2 bad flags or values;
 *   3 some inputs could not be used (each listed; the rest were); 75 training stopped on SIGTERM
 *   after writing a checkpoint (run the same command again to resume it);
 * - no stack trace reaches a user (`CGVSNI_DEBUG=1` with `--allow-env` shows them).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { CgvsniError, oneLine, Preempted, PREEMPTED_EXIT, UsageError } from "../lib/core/errors.ts";
import { setThreads } from "../lib/backends/select.ts";
import { type DecoderName, DECODERS, DEFAULT_MAX_PIXELS, setDecoder } from "../lib/data/decode.ts";
import { DEFAULT_ONECLASS_RUN } from "../lib/oneclass/train.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";

/** One command-line flag. */
export interface Flag {
  /** Name without dashes. */
  name: string;
  /** String or boolean. */
  type: "string" | "boolean";
  /** One line of help. */
  help: string;
  /** Shown in help; for strings, the value used when the flag is absent. */
  default?: string | boolean;
  /** Placeholder in help (`--lr X`). */
  arg?: string;
  /** One-letter form. */
  short?: string;
  /**
   * A setting, not a flag of its own: given as `--set NAME=VALUE` or a `--config` key, listed
   * apart in the help (the flag form still works, with a note, for a release).
   */
  setting?: boolean;
}

/** The flag that gives settings: `--set NAME=VALUE`, repeatable. */
export const SET_FLAG: Flag = {
  name: "set",
  type: "string",
  arg: "NAME=VALUE",
  help: "a setting (listed below); repeat for more",
};

/** The flags a command shows as its own: neither settings nor the common ones. */
export function ownFlags(cmd: Command): Flag[] {
  return [
    ...cmd.flags.filter((f) => !f.setting),
    ...(cmd.flags.some((f) => f.setting) ? [SET_FLAG] : []),
  ];
}

/**
 * Old flag names, kept for a release with a one-line note: old name → the flag it is now, the
 * same in every command (the README lists this table).
 */
export const OLD_FLAG_NAMES: Readonly<Record<string, string>> = {
  "model-name": "map",
  flow: "oneclass-run",
  "flow-tiles": "oneclass-tiles",
  "flow-epochs": "oneclass-epochs",
  "flow-hidden": "oneclass-hidden",
};

/** Old flag names that meant different flags in different commands: refused, with the way out. */
export const REMOVED_FLAG_NAMES: Readonly<Record<string, string>> = {
  model: "use --detector (detect) or --oneclass (train-oneclass, experiment)",
};

/** The old names of a flag (see {@link OLD_FLAG_NAMES}). */
export function oldNamesOf(flag: string): string[] {
  return Object.keys(OLD_FLAG_NAMES).filter((k) => OLD_FLAG_NAMES[k] === flag);
}

/** A command. */
export interface Command {
  /** Name (`train-map`). */
  name: string;
  /** Other names it answers to. */
  aliases?: string[];
  /** One line. */
  summary: string;
  /** Usage line after the command name, e.g. `[flags] PATH...`. */
  usage: string;
  /** Longer description printed by `--help`. */
  description?: string;
  /** The permissions `deno task <name>` runs with, for the help text. */
  permissions: string;
  /** Where it writes (for the help text and permission errors). */
  writes: string;
  /** Its flags. */
  flags: Flag[];
  /** Runs it; returns the exit code. */
  run(args: ParsedArgs): Promise<number>;
}

/** Parsed flags and positionals. */
export interface ParsedArgs {
  /** Flag values by canonical name. */
  values: Record<string, string | boolean | undefined>;
  /** Positional arguments. */
  positionals: string[];
}

/** Exit codes. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  someFailed: 3,
  preempted: PREEMPTED_EXIT,
} as const;

/** Flags every command has. */
export const COMMON_FLAGS: Flag[] = [
  {
    name: "config",
    type: "string",
    arg: "FILE",
    help: 'flags from a JSON file, {"flag-name": value, ...}; flags given here win',
  },
  { name: "help", type: "boolean", short: "h", help: "show this help and exit" },
];

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Parses `argv` against the command's flags; unknown flags are usage errors. */
export function parse(
  cmd: Command,
  argv: string[],
  warn = (s: string) => console.error(s),
): ParsedArgs {
  const flags = [...cmd.flags, ...COMMON_FLAGS];
  const settings = flags.filter((f) => f.setting);
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = settings.length ? { set: { type: "string", multiple: true } } : {};
  const canonical = new Map<string, string>();
  for (const f of flags) {
    options[f.name] = { type: f.type, ...(f.short ? { short: f.short } : {}) };
    for (const a of oldNamesOf(f.name)) {
      options[a] = { type: f.type };
      canonical.set(a, f.name);
    }
  }
  for (const arg of argv) {
    const old = arg.match(/^--([^=]+)/)?.[1];
    if (arg === "--") break;
    if (old && REMOVED_FLAG_NAMES[old] && !options[old]) {
      throw new UsageError(`${cmd.name}: --${old} was removed: ${REMOVED_FLAG_NAMES[old]}`);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(
      `${cmd.name}: ${(e as Error).message.replace(/\. To specify.*$/, "")} (see --help)`,
    );
  }
  const values: ParsedArgs["values"] = {};
  const { set, ...given } = parsed.values as Record<string, string | boolean | string[]>;
  for (const [k, v] of Object.entries(given)) {
    const name = canonical.get(k) ?? k;
    if (canonical.has(k)) {
      warn(`note: --${k} is an old name of --${name}, and will go in a later release`);
    }
    if (settings.some((f) => f.name === name)) {
      warn(
        `note: --${k} is a setting now: give --set ${name}=${v === true ? "true" : v} ` +
          `(or "${name}" in --config FILE); the flag form goes in a later release`,
      );
    }
    if (values[name] !== undefined && values[name] !== v) {
      throw new UsageError(`${cmd.name}: --${name} given twice (once as --${k})`);
    }
    values[name] = v as string | boolean;
  }
  for (const pair of (set ?? []) as string[]) {
    const eq = pair.indexOf("=");
    const key = eq > 0 ? kebab(pair.slice(0, eq).trim()) : "";
    const flag = flagNamed(flags, key);
    if (!flag || flag.name === "config" || flag.name === "help") {
      throw new UsageError(
        eq > 0
          ? `${cmd.name}: --set ${pair}: "${key}" is not a setting or flag of ${cmd.name}`
          : `${cmd.name}: --set needs NAME=VALUE, got "${pair}"`,
      );
    }
    const raw = pair.slice(eq + 1);
    if (flag.type === "boolean" && raw !== "true" && raw !== "false") {
      throw new UsageError(`${cmd.name}: --set ${pair}: ${flag.name} is true or false`);
    }
    const v = flag.type === "boolean" ? raw === "true" : raw;
    if (values[flag.name] !== undefined && values[flag.name] !== v) {
      throw new UsageError(`${cmd.name}: ${flag.name} given twice (once in --set)`);
    }
    values[flag.name] = v;
  }
  if (typeof values.config === "string") {
    for (const [k, v] of Object.entries(readConfig(cmd, values.config, flags, warn))) {
      values[k] ??= v;
    }
  }
  return { values, positionals: parsed.positionals };
}

/** The flag called `name`, or whose old name it is. */
function flagNamed(flags: Flag[], name: string): Flag | undefined {
  return flags.find((f) => f.name === name) ?? flags.find((f) => f.name === OLD_FLAG_NAMES[name]);
}

/**
 * The flag values of a `--config` file: a JSON object whose keys are flag names (`lr-step` or
 * `lrStep`; an old name is accepted with a note) and whose values are strings, numbers, lists
 * (joined with commas) or, for on/off flags, true or false.
 */
function readConfig(
  cmd: Command,
  file: string,
  flags: Flag[],
  warn: (s: string) => void,
): Record<string, string | boolean> {
  let raw: unknown;
  try {
    raw = JSON.parse(Deno.readTextFileSync(file));
  } catch (e) {
    throw new UsageError(
      `${cmd.name}: --config ${file}: ${
        e instanceof SyntaxError ? "not valid JSON" : oneLine(e).replace(/^.*?: /, "")
      }`,
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new UsageError(`${cmd.name}: --config ${file}: expected a JSON object of flags`);
  }
  const out: Record<string, string | boolean> = {};
  for (const [key, v] of Object.entries(raw)) {
    const k = kebab(key);
    const flag = flagNamed(flags, k);
    if (!flag || flag.name === "config" || flag.name === "help") {
      throw new UsageError(`${cmd.name}: --config ${file}: "${key}" is not a flag of ${cmd.name}`);
    }
    if (flag.name !== k) {
      warn(
        `note: "${key}" in ${file} is an old name of ${flag.name}, and will go in a later release`,
      );
    }
    const list = Array.isArray(v) ? v : [v];
    const ok = flag.type === "boolean"
      ? typeof v === "boolean"
      : list.length > 0 && list.every((x) => typeof x === "string" || typeof x === "number");
    if (!ok) {
      throw new UsageError(
        `${cmd.name}: --config ${file}: "${key}" must be ${
          flag.type === "boolean" ? "true or false" : "a string, a number or a list of them"
        }, got ${JSON.stringify(v)}`,
      );
    }
    if (out[flag.name] !== undefined) {
      throw new UsageError(`${cmd.name}: --config ${file}: ${flag.name} given twice`);
    }
    out[flag.name] = flag.type === "boolean" ? v as boolean : list.join(",");
  }
  return out;
}

/** The `--help` text of a command. */
export function helpText(cmd: Command): string {
  const lines = [`cgvsni ${cmd.name} ${cmd.usage}`, "", cmd.summary];
  if (cmd.aliases?.length) lines.push(`(also: ${cmd.aliases.join(", ")})`);
  if (cmd.description) lines.push("", cmd.description.trim());
  const flags = [...ownFlags(cmd), ...COMMON_FLAGS];
  const settings = cmd.flags.filter((f) => f.setting);
  const heads = flags.map((f) =>
    `  ${f.short ? `-${f.short}, ` : ""}--${f.name}${f.type === "string" ? ` ${f.arg ?? "X"}` : ""}`
  );
  const setHeads = settings.map((f) =>
    `  ${f.name}=${f.type === "string" ? f.arg ?? "X" : "true|false"}`
  );
  const w = Math.min(
    34,
    Math.max(...heads.map((h) => h.length), ...setHeads.map((h) => h.length)) + 2,
  );
  const row = (f: Flag, head: string) => {
    const def = f.default !== undefined && f.default !== false ? ` (default: ${f.default})` : "";
    const old = oldNamesOf(f.name);
    const alias = old.length
      ? ` [old name${old.length > 1 ? "s" : ""}: ${old.map((a) => `--${a}`).join(", ")}]`
      : "";
    const text = `${f.help}${def}${alias}`;
    lines.push(
      head.length + 2 > w ? `${head}\n${" ".repeat(w)}${text}` : `${head.padEnd(w)}${text}`,
    );
  };
  lines.push("", "Flags:");
  flags.forEach((f, i) => row(f, heads[i]));
  if (settings.length) {
    lines.push("", "Settings (--set NAME=VALUE, or NAME as a key of --config FILE):");
    settings.forEach((f, i) => row(f, setHeads[i]));
  }
  lines.push(
    "",
    `Writes: ${cmd.writes}`,
    `Permissions (deno task ${cmd.name}): ${cmd.permissions}`,
  );
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

/** A string flag that must be one of `choices` (undefined when absent). */
export function choice<T extends string>(
  a: ParsedArgs,
  name: string,
  choices: readonly T[],
): T | undefined {
  const v = str(a, name);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}, got "${v}"`);
  }
  return v as T;
}

/** The `--backend` flag, shared by every command that runs a model. */
export const BACKEND_FLAG: Flag = {
  name: "backend",
  type: "string",
  arg: "NAME",
  default: "auto",
  help:
    "tfjs backend: auto|native|wasm|cpu|webgpu (auto: a real WebGPU adapter, else native oneDNN, else wasm)",
};

/** The `--decoder` flag of commands that read images (applied by {@link runCommand}). */
export const DECODER_FLAG: Flag = {
  name: "decoder",
  type: "string",
  arg: "NAME",
  default: "auto",
  help:
    "image decoder: auto|libvips|wasm (auto: libvips where FFI is granted, else WebAssembly; the same pixels but for colour profiles and CMYK)",
};

/** The `--threads` flag of commands that run the native backend. */
export const THREADS_FLAG: Flag = {
  name: "threads",
  type: "string",
  arg: "N",
  help:
    "CPU threads of the native backend (default: the cores this process may use, minus the load)",
};

/**
 * The flags of commands that compute: backend, decoder, threads. {@link runCommand} applies
 * `--decoder` and `--threads` before the command runs (the backend starts with its defaults).
 */
export const COMPUTE_FLAGS: Flag[] = [BACKEND_FLAG, DECODER_FLAG, THREADS_FLAG];

/** The `--oneclass-run` flag: a one-class run inside the map run `--map` names. */
export const ONECLASS_RUN_FLAG: Flag = {
  name: "oneclass-run",
  type: "string",
  arg: "NAME",
  default: DEFAULT_ONECLASS_RUN,
  help: "the one-class run inside the map run",
};

/** The `--max-pixels` flag of the commands that read images a user gives. */
export const MAX_PIXELS_FLAG: Flag = {
  name: "max-pixels",
  type: "string",
  arg: "N",
  default: String(DEFAULT_MAX_PIXELS),
  help: "refuse images with more pixels",
};

/**
 * The flags of the commands that read a photograph corpus and a dataset of renders (`loso`,
 * `train-head`): --natural, --natural-csv, --renders (`renders`: what its renders are for) and
 * --renders-csv. {@link photographsAndRendersArgs} reads them.
 */
export function photographsAndRendersFlags(renders: string): Flag[] {
  return [
    { name: "natural", type: "string", arg: "DIR", help: "the photograph corpus" },
    { name: "natural-csv", type: "string", arg: "FILE", help: "another CSV for --natural" },
    { name: "renders", type: "string", arg: "DIR", help: renders },
    { name: "renders-csv", type: "string", arg: "FILE", help: "another CSV for --renders" },
  ];
}

/** The values of {@link photographsAndRendersFlags}; both folders are required (`command` names the command in the usage error). */
export function photographsAndRendersArgs(a: ParsedArgs, command: string): {
  natural: string;
  naturalCsv?: string;
  renders: string;
  rendersCsv?: string;
} {
  const natural = str(a, "natural"), renders = str(a, "renders");
  if (!natural || !renders) {
    throw new UsageError(`${command}: give --natural DIR and --renders DIR`);
  }
  return {
    natural,
    naturalCsv: str(a, "natural-csv"),
    renders,
    rendersCsv: str(a, "renders-csv"),
  };
}

/** The `--runs` flag. */
export const RUNS_FLAG: Flag = {
  name: "runs",
  type: "string",
  arg: "DIR",
  default: DEFAULT_RUNS,
  help: "folder of run folders (elsewhere than runs/ needs --allow-write=DIR: see the README)",
};

/**
 * A library error message naming an option (`nu must be in (0, 1)`) rewritten with the flag a
 * user typed (`--nu must be in (0, 1)`), when the command has that flag.
 */
export function flagged(message: string, cmd?: Command): string {
  if (!cmd) return message;
  const m = /^([a-zA-Z][a-zA-Z0-9-]*) (must|needs|is)\b/.exec(message);
  if (!m) return message;
  const name = kebab(m[1]);
  return cmd.flags.some((f) => f.name === name)
    ? `--${name}${message.slice(m[1].length)}`
    : message;
}

/** Whether `CGVSNI_DEBUG` asks for stack traces (never prompts for permission). */
function debugging(): boolean {
  try {
    return Deno.permissions.querySync({ name: "env", variable: "CGVSNI_DEBUG" }).state ===
        "granted" &&
      !!Deno.env.get("CGVSNI_DEBUG");
  } catch {
    return false;
  }
}

/** The one line a user sees for an error, and the exit code. */
export function explain(e: unknown, cmd?: Command): { line: string; code: number } {
  if (e instanceof UsageError) {
    return { line: `error: ${flagged(oneLine(e), cmd)}`, code: EXIT.usage };
  }
  if (e instanceof Preempted) return { line: `stopped: ${oneLine(e)}`, code: EXIT.preempted };
  if (e instanceof CgvsniError) return { line: `error: ${oneLine(e)}`, code: EXIT.error };
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    const m = /Requires (\w+) access to "?([^",]+)"?/.exec((e as Error).message);
    const what = m ? `no ${m[1]} permission for ${m[2]}` : `permission denied: ${oneLine(e)}`;
    const hint = m?.[1] === "write"
      ? ` (this task writes to ${cmd?.writes ?? "runs/"}; to write to ${
        m[2]
      }, run it with --allow-write=${m[2]}: see "Writing elsewhere" in the README)`
      : m?.[1] === "net"
      ? ` (give --allow-net=${m[2].split(":")[0]}: see "Detectors by URL" in the README)`
      : "";
    return { line: `error: ${what}${hint}`, code: EXIT.error };
  }
  return { line: `internal error: ${oneLine(e)}`, code: EXIT.error };
}

/** Parses and runs a command, mapping every failure to one line and an exit code. */
export async function runCommand(cmd: Command, argv: string[]): Promise<number> {
  try {
    const args = parse(cmd, argv);
    if (args.values.help) {
      console.log(helpText(cmd));
      return EXIT.ok;
    }
    if (cmd.flags.includes(DECODER_FLAG)) {
      setDecoder((choice(args, "decoder", DECODERS) ?? "auto") as DecoderName);
    }
    if (cmd.flags.includes(THREADS_FLAG)) {
      const n = num(args, "threads", { int: true, min: 1 });
      if (n !== undefined) setThreads(n);
    }
    return await cmd.run(args);
  } catch (e) {
    const { line, code } = explain(e, cmd);
    console.error(line);
    if (debugging()) console.error((e as Error).stack);
    return code;
  }
}
