/**
 * `deno task strict <command> ...`: run `detect`, `evaluate`, `robustness`, `train-map`,
 * `train-oneclass` or `report` in a strict sandbox, for untrusted images on shared servers:
 *
 * - no FFI (the native backend is a full escape from Deno's sandbox): the WebAssembly backend;
 * - reads limited to the toolkit, Deno's npm cache, and the inputs the command names (files and
 *   folders given, the dataset, the runs folder, and the dataset a run was trained on);
 * - writes limited to the runs folder (or `--heatmap DIR` for detect; nothing else);
 * - environment: only `IMAGESCRIPT_WASM_SIMD`; no network (a detector URL adds its host only);
 * - symbolic links to anything outside the readable paths are refused (Deno itself would follow
 *   them).
 *
 * This launcher reads the command line and the runs' configurations to find those paths, then
 * runs `deno run` with them. It never decodes an image itself.
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../lib/core/errors.ts";
import { type Command, explain, parse } from "./_args.ts";
import { COMMANDS } from "./main.ts";
import { DEFAULT_RUNS } from "../lib/runs/folder.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MAIN = join(ROOT, "cli", "main.ts");

/** Commands the strict sandbox runs. */
export const STRICT_COMMANDS = [
  "detect",
  "evaluate",
  "robustness",
  "train-map",
  "train-oneclass",
  "report",
];

/** The dataset root a map run (or a one-class run of its own) was made from, if readable. */
async function datasetOf(runs: string, name: string): Promise<string[]> {
  try {
    const c = JSON.parse(await Deno.readTextFile(join(runs, name, "config.json")));
    return [c.dataset?.root, c.dataset?.csv].filter(Boolean);
  } catch {
    return [];
  }
}

/** The `deno run` arguments of a command in the strict sandbox. */
export async function strictArgs(argv: string[], npmCache: string): Promise<string[]> {
  const [name, ...rest] = argv;
  if (!STRICT_COMMANDS.includes(name)) {
    throw new UsageError(`strict: runs ${STRICT_COMMANDS.join(", ")}; got "${name ?? ""}"`);
  }
  const cmd = COMMANDS.find((c) => c.name === name) as Command;
  const a = parse(cmd, rest, () => {});
  const v = (k: string) =>
    typeof a.values[k] === "string" ? resolve(a.values[k] as string) : undefined;
  const runs = resolve((a.values.runs as string) ?? DEFAULT_RUNS);
  const read = new Set<string>([ROOT, npmCache, runs]);
  const write = new Set<string>();
  for (
    const k of [
      "config",
      "data",
      "csv",
      "test-data",
      "test-csv",
      "split-files",
      "split-csv",
      "cache-dir",
    ]
  ) {
    const p = v(k);
    if (p) read.add(p);
  }
  for (const k of ["map", "oneclass-run"]) {
    const n = a.values[k];
    if (typeof n === "string") { for (const p of await datasetOf(runs, n)) read.add(p); }
  }
  let net: string | undefined;
  if (name === "detect") {
    for (const p of a.positionals) read.add(resolve(p));
    const det = a.values.detector as string | undefined;
    if (det && /^https?:\/\//.test(det)) net = new URL(det).host;
    else if (det) read.add(resolve(det));
    const heat = v("heatmap");
    if (heat) {
      write.add(heat);
      read.add(heat);
    }
  } else write.add(runs);
  const env = "IMAGESCRIPT_WASM_SIMD";
  return [
    "run",
    "--no-prompt",
    `--allow-read=${[...read].join(",")}`,
    ...(write.size ? [`--allow-write=${[...write].join(",")}`] : []),
    `--allow-env=${env}`,
    ...(net ? [`--allow-net=${net}`] : []),
    MAIN,
    name,
    ...rest,
    "--backend",
    "wasm",
  ];
}

/** Runs the launcher; returns the command's exit code. */
export async function strict(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h") {
    console.log(
      `deno task strict <command> [flags]: ${STRICT_COMMANDS.join(", ")} in a strict sandbox ` +
        "(no FFI: WebAssembly backend; reads: the toolkit, Deno's npm cache and the inputs named; " +
        "writes: the runs folder, or detect's --heatmap folder; no network, no environment beyond " +
        "IMAGESCRIPT_WASM_SIMD). Flags are the command's own (deno task strict detect --help).",
    );
    return argv.length === 0 ? 2 : 0;
  }
  try {
    const info = await new Deno.Command("deno", {
      args: ["info", "--json"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const npmCache = JSON.parse(new TextDecoder().decode(info.stdout)).npmCache as string;
    const args = await strictArgs(argv, npmCache);
    const child = new Deno.Command("deno", {
      args,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    return (await child.status).code;
  } catch (e) {
    const { line, code } = explain(e);
    console.error(line);
    return code;
  }
}

if (import.meta.main) Deno.exit(await strict(Deno.args));
