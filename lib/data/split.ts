/**
 * Seeded, stratified, group-aware splits. Every image gets one role:
 *
 * - `train`: the image map (ENet) trains on it (natural, and the training renderer's);
 * - `val`: the map is validated on it;
 * - `oneclass`: natural images held back for the one-class stage (the unlabeled pool; `flow`
 *   in split files written before 0.3, read as `oneclass`);
 * - `test`: every evaluation, for every renderer, seen in training or not;
 * - `unused`: left out (e.g. not in any list given with `--split-files`).
 *
 * Roles are drawn per source folder with exact proportions (largest remainder), groups never
 * straddle two roles, and the assignment does not depend on which renderer a map trains on, so
 * every row of the renderer matrix tests on the same images.
 *
 * @module
 */

import { basename } from "node:path";
import { DatasetError, UsageError } from "../core/errors.ts";
import { Rng } from "../core/rng.ts";
import { formatCsv, parseCsvRecords } from "./csv.ts";
import type { ImageEntry } from "./dataset.ts";

/** What an image is used for. */
export type Role = "train" | "val" | "oneclass" | "test" | "unused";

/** All roles, in split-file order. */
export const ROLES: readonly Role[] = ["train", "val", "oneclass", "test", "unused"];

/** Old role names in split files and run configurations, and the role each is now. */
const OLD_ROLES: Readonly<Record<string, Role>> = { flow: "oneclass" };

/**
 * A role by its name, old names (`flow`) brought up to date.
 *
 * @example
 * ```ts
 * import { roleNamed } from "./mod.ts";
 * console.log(roleNamed("flow"), roleNamed("test")); // oneclass test
 * ```
 */
export function roleNamed(name: string): Role {
  return OLD_ROLES[name] ?? name as Role;
}

/** Fractions of each source that go to each role. */
export interface SplitFractions {
  /** Natural images: map training, map validation, one-class pool, test. */
  natural: { train: number; val: number; oneclass: number; test: number };
  /** Rendered images: map training, map validation, test. */
  cg: { train: number; val: number; test: number };
}

/** Defaults: natural 40/10/20/30 %, rendered 60/10/30 %. */
export const DEFAULT_FRACTIONS: SplitFractions = {
  natural: { train: 0.4, val: 0.1, oneclass: 0.2, test: 0.3 },
  cg: { train: 0.6, val: 0.1, test: 0.3 },
};

/** An image with its role. */
export interface SplitEntry extends ImageEntry {
  /** What the image is used for. */
  role: Role;
}

/** Parses `"0.4,0.1,0.2,0.3"` into fractions that sum to 1 (each ≥ 0). */
export function parseFractions(text: string, count: number, name: string): number[] {
  const xs = text.split(",").map((s) => Number(s.trim()));
  if (xs.length !== count || xs.some((x) => !Number.isFinite(x) || x < 0)) {
    throw new UsageError(
      `${name} must be ${count} non-negative numbers separated by commas, got "${text}"`,
    );
  }
  const sum = xs.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) throw new UsageError(`${name} must sum to 1, got ${sum}`);
  return xs;
}

/** Splits `n` into integer counts proportional to `fractions` (largest remainder). */
export function apportion(n: number, fractions: number[]): number[] {
  const raw = fractions.map((f) => f * n);
  const counts = raw.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) =>
    b[0] - a[0] || a[1] - b[1]
  );
  for (let k = 0; left > 0; k++, left--) counts[order[k % order.length][1]]++;
  return counts;
}

/**
 * Assigns a role to every image. Deterministic for a given image list, fractions and seed.
 *
 * @example A seeded, stratified, group-aware split
 * ```ts
 * import { DEFAULT_FRACTIONS, loadDataset, makeSplit } from "./mod.ts";
 * const ds = await loadDataset("dataset");
 * const split = makeSplit(ds.images, DEFAULT_FRACTIONS, 0);
 * console.log(split.filter((e) => e.role === "test").length);
 * ```
 */
export function makeSplit(
  images: ImageEntry[],
  fractions: SplitFractions,
  seed: number,
): SplitEntry[] {
  const bySource = new Map<string, ImageEntry[]>();
  for (const img of images) {
    const key = `${img.label === 0 ? "n" : "c"}:${img.source}`;
    if (!bySource.has(key)) bySource.set(key, []);
    bySource.get(key)!.push(img);
  }
  const groupRole = new Map<string, Role>();
  // Smallest sources first: they have the least slack, so their proportions are met exactly.
  const sources = [...bySource.entries()].sort((a, b) =>
    a[1].length - b[1].length || (a[0] < b[0] ? -1 : 1)
  );
  for (const [key, imgs] of sources) {
    const natural = key.startsWith("n:");
    const roles: Role[] = natural ? ["train", "val", "oneclass", "test"] : ["train", "val", "test"];
    const fr = natural ? fractions.natural : fractions.cg;
    const target = apportion(imgs.length, roles.map((r) => (fr as Record<string, number>)[r]));
    const need = new Map(roles.map((r, i) => [r, target[i]]));
    const groups = new Map<string, number>();
    for (const img of imgs) {
      const done = groupRole.get(img.group);
      if (done !== undefined) need.set(done, (need.get(done) ?? 0) - 1);
      else groups.set(img.group, (groups.get(img.group) ?? 0) + 1);
    }
    const order = new Rng(`split:${seed}:${key}`).shuffle([...groups.keys()].sort());
    for (const g of order) {
      // The role furthest below its target; ties go test, val, oneclass, train.
      const prefer = (["test", "val", "oneclass", "train"] as Role[]).filter((r) => need.has(r));
      let best = prefer[0];
      for (const r of prefer) if (need.get(r)! > need.get(best)!) best = r;
      groupRole.set(g, best);
      need.set(best, need.get(best)! - groups.get(g)!);
    }
  }
  return images.map((img) => {
    let role = groupRole.get(img.group) ?? "unused";
    if (role === "oneclass" && img.label !== 0) role = "unused";
    return { ...img, role };
  });
}

/**
 * Roles from the ENet authors' published lists (`Dataset/TrainValTestSplit/*.txt` in
 * weizequan/CGDetection): files name images by basename. `*_train_*` → train, `*_val_*` → val,
 * `*_test_*` → test; natural images listed only in the other lists (the RAISE/VISION pools)
 * form the one-class pool; images in no list are unused.
 *
 * @example The ENet authors' published lists
 * ```ts
 * import { loadDataset, splitFromLists } from "./mod.ts";
 * const ds = await loadDataset("dataset");
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/cg_test_list.txt`, "photo_00001.png\n");
 * console.log((await splitFromLists(ds.images, dir)).filter((e) => e.role === "test").length); // 1
 * ```
 */
export async function splitFromLists(images: ImageEntry[], dir: string): Promise<SplitEntry[]> {
  const byBase = new Map<string, ImageEntry[]>();
  for (const img of images) {
    const b = basename(img.name);
    if (!byBase.has(b)) byBase.set(b, []);
    byBase.get(b)!.push(img);
  }
  const role = new Map<ImageEntry, Role>();
  const files: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && e.name.endsWith(".txt")) files.push(e.name);
  }
  if (files.length === 0) throw new DatasetError(dir, "no split lists (*.txt) found");
  files.sort();
  const pools: string[] = [];
  for (const f of files) {
    const kind = /_train_/i.test(f)
      ? "train"
      : /_val_/i.test(f)
      ? "val"
      : /_test_/i.test(f)
      ? "test"
      : null;
    if (kind === null) {
      pools.push(f);
      continue;
    }
    const text = await Deno.readTextFile(`${dir}/${f}`);
    text.split(/\r?\n/).forEach((line, i) => {
      const name = line.trim();
      if (!name) return;
      const hits = byBase.get(basename(name));
      if (!hits) throw new DatasetError(`${dir}/${f}`, `not in dataset.csv: ${name}`, i + 1);
      for (const img of hits) {
        const prev = role.get(img);
        if (prev && prev !== kind) {
          throw new DatasetError(`${dir}/${f}`, `${name} is already in the ${prev} split`, i + 1);
        }
        role.set(img, kind);
      }
    });
  }
  for (const f of pools) {
    const text = await Deno.readTextFile(`${dir}/${f}`);
    for (const line of text.split(/\r?\n/)) {
      for (const img of byBase.get(basename(line.trim())) ?? []) {
        if (!role.has(img) && img.label === 0) role.set(img, "oneclass");
      }
    }
  }
  return images.map((img) => ({ ...img, role: role.get(img) ?? "unused" }));
}

/** The split as CSV text (`Name,Label,Group,Role`). */
export function formatSplit(entries: SplitEntry[]): string {
  return formatCsv(
    ["Name", "Label", "Group", "Role"],
    entries.map((e) => [e.name, e.label, e.group, e.role]),
  );
}

/**
 * Reads roles back from split CSV text and applies them to the dataset's images.
 *
 * @example Roles read back from a split file
 * ```ts
 * import { applySplit, loadDataset } from "./mod.ts";
 * const ds = await loadDataset("dataset");
 * const text = "Name,Role\n" + ds.images.map((i) => `${i.name},test`).join("\n");
 * console.log(applySplit(ds.images, text)[0].role); // test
 * ```
 */
export function applySplit(images: ImageEntry[], text: string, file = "split.csv"): SplitEntry[] {
  const recs = parseCsvRecords(text, file);
  const header = recs[0]?.fields.map((h) => h.toLowerCase()) ?? [];
  const iName = header.indexOf("name"), iRole = header.indexOf("role");
  if (iName < 0 || iRole < 0) throw new DatasetError(file, "header must have Name and Role");
  const roles = new Map<string, Role>();
  for (const { fields, line } of recs.slice(1)) {
    const r = roleNamed(fields[iRole]);
    if (!ROLES.includes(r)) throw new DatasetError(file, `unknown role "${fields[iRole]}"`, line);
    roles.set(fields[iName], r);
  }
  const missing = images.filter((i) => !roles.has(i.name));
  if (missing.length > 0) {
    throw new DatasetError(
      file,
      `${missing.length} image(s) of the dataset are not in the run's split (e.g. ${
        missing[0].name
      }); ` +
        "the dataset changed since the run was made",
    );
  }
  return images.map((img) => ({ ...img, role: roles.get(img.name)! }));
}

/** Counts per (class label, role), for logs and reports. */
export function splitCounts(entries: SplitEntry[]): Map<number, Record<Role, number>> {
  const out = new Map<number, Record<Role, number>>();
  for (const e of entries) {
    if (!out.has(e.label)) out.set(e.label, { train: 0, val: 0, oneclass: 0, test: 0, unused: 0 });
    out.get(e.label)![e.role]++;
  }
  return out;
}
