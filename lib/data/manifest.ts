/**
 * Writes a `dataset.csv` from any folder tree: every top-level folder is a class, those named as
 * natural get label 0, the others labels 1..K in alphabetical order.
 *
 * @module
 */

import { join, relative } from "node:path";
import { DatasetError } from "../core/errors.ts";
import { formatCsv } from "./csv.ts";
import { hasImageExtension } from "./decode.ts";

/** One row of a manifest. */
export interface ManifestRow {
  /** Path relative to the dataset root. */
  name: string;
  /** 0 natural, 1..K renderer. */
  label: number;
}

/** Lists image files under `dir` recursively (symlinked folders are not followed), sorted. */
export async function listImages(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.name.startsWith(".")) continue;
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile && hasImageExtension(e.name)) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

/**
 * Builds manifest rows for `root`: `natural` names the top-level folders of photographs;
 * every other top-level folder holding images becomes a renderer.
 *
 * @example A dataset.csv for a folder tree
 * ```ts
 * import { buildManifest, manifestCsv } from "./mod.ts";
 * const { rows, renderers } = await buildManifest("dataset", ["Photos"]);
 * console.log(renderers, manifestCsv(rows).split("\n")[1]);
 * ```
 */
export async function buildManifest(root: string, natural: string[]): Promise<{
  rows: ManifestRow[];
  renderers: string[];
}> {
  const folders: string[] = [];
  for await (const e of Deno.readDir(root)) {
    if (e.isDirectory && !e.name.startsWith(".")) folders.push(e.name);
  }
  folders.sort();
  const unknown = natural.filter((n) => !folders.includes(n));
  if (unknown.length > 0) {
    throw new DatasetError(
      root,
      `natural-image folder(s) not found: ${unknown.join(", ")} (folders: ${folders.join(", ")})`,
    );
  }
  if (natural.length === 0) {
    throw new DatasetError(
      root,
      "name the natural-image folders (option natural; --natural A,B on the command line)",
    );
  }
  const rows: ManifestRow[] = [];
  const renderers: string[] = [];
  for (const f of folders) {
    const files = await listImages(join(root, f));
    if (files.length === 0) continue;
    let label = 0;
    if (!natural.includes(f)) {
      renderers.push(f);
      label = renderers.length;
    }
    for (const p of files) rows.push({ name: relative(root, p).split("\\").join("/"), label });
  }
  if (renderers.length === 0) {
    throw new DatasetError(root, "no renderer folders with images besides the natural ones");
  }
  return { rows, renderers };
}

/**
 * The manifest as `dataset.csv` text.
 *
 * @example Rows as CSV text
 * ```ts
 * import { manifestCsv } from "./mod.ts";
 * console.log(manifestCsv([{ name: "RAISE/a.tif", label: 0 }, { name: "VRay/b.jpg", label: 1 }]));
 * ```
 */
export function manifestCsv(rows: ManifestRow[]): string {
  return formatCsv(["Name", "Label"], rows.map((r) => [r.name, r.label]));
}
