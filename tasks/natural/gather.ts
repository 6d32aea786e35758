/**
 * Gathers the photographs the natural corpus is built from (docs/natural-corpus.md), one folder
 * per source, and writes the `sources.csv` that `deno task make-natural --sources` reads:
 *
 * - the ten GitHub sources of `tasks/natural/github.csv`, each at its pinned commit (from a git
 *   mirror in `--mirrors`, as the `fetch` tool leaves them, or cloned there with `git`);
 * - the photographs of Debian packages listed in `--debian-manifest`, from the folder
 *   `debian/fetch.sh` unpacked them into (`--debian`), except those cgbench already holds;
 * - cgbench's photographs, each in the folder of the package or repository it came from, so
 *   that a source held out is held out whole.
 *
 * deno run --allow-read --allow-write --allow-run=git tasks/natural/gather.ts --out DIR
 *   [--mirrors DIR] [--debian DIR --debian-manifest FILE] [--cgbench DIR]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { basename, dirname, join, resolve } from "node:path";
import { parseCsvRecords } from "../../lib/data/csv.ts";
import { formatCsv } from "../../lib/data/csv.ts";

const HERE = dirname(new URL(import.meta.url).pathname);
const { values: v } = parseArgs({
  args: Deno.args,
  options: {
    out: { type: "string" },
    mirrors: { type: "string", default: "../.mirror" },
    debian: { type: "string" },
    "debian-manifest": { type: "string" },
    cgbench: { type: "string" },
  },
});
if (!v.out) throw new Error("give --out DIR");
const out = resolve(v.out);
await Deno.mkdir(out, { recursive: true });

/** Rows of a CSV as objects keyed by its header. */
function table(text: string, file: string, sep = ","): Record<string, string>[] {
  const recs = sep === ","
    ? parseCsvRecords(text, file).map((r) => r.fields)
    : text.trim().split("\n").map((l) => l.split(sep));
  const [head, ...rows] = recs;
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h.trim(), r[i] ?? ""])));
}

async function git(args: string[]): Promise<Uint8Array> {
  const r = await new Deno.Command("git", { args, stdout: "piped", stderr: "piped" }).output();
  if (!r.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(r.stderr).trim()}`);
  }
  return r.stdout;
}

/** The git directory of a repository's mirror, cloned at `commit` when absent. */
async function mirror(repo: string, commit: string): Promise<string> {
  const base = resolve(v.mirrors!, repo.replace("/", "+"));
  for (const g of [join(base, "repo", ".git"), join(base, "repo"), join(base, ".git")]) {
    try {
      await git(["--git-dir", g, "cat-file", "-e", `${commit}^{commit}`]);
      return g;
    } catch { /* not this one */ }
  }
  const dir = join(base, "repo");
  await Deno.mkdir(base, { recursive: true });
  await git(["clone", "--quiet", "--no-checkout", `https://github.com/${repo}.git`, dir]);
  return join(dir, ".git");
}

const spec: (string | number)[][] = [];
const IMAGE = /\.(png|jpe?g|tiff?|bmp|ppm|webp)$/i;

// 1. the GitHub sources, at their pinned commits
for (const s of table(await Deno.readTextFile(join(HERE, "github.csv")), "github.csv")) {
  const g = await mirror(s.repo, s.commit);
  const files = new TextDecoder().decode(
    await git(["--git-dir", g, "ls-tree", "-r", "--name-only", s.commit, "--", s.path]),
  ).split("\n").filter((f) => IMAGE.test(f));
  const dir = join(out, s.source);
  await Deno.mkdir(dir, { recursive: true });
  let missing = 0;
  for (const f of files) {
    try {
      await Deno.writeFile(
        join(dir, basename(f)),
        await git(["--git-dir", g, "show", `${s.commit}:${f}`]),
      );
    } catch {
      missing++; // a file the mirror left out (the largest ones)
    }
  }
  console.error(`${s.source}: ${files.length - missing} files (${missing} absent from the mirror)`);
  spec.push([
    s.source,
    s.source,
    `${s.licence}; ${s.repo}@${s.commit}/${s.path}`,
    s.include,
    s.exclude,
  ]);
}

// 2. cgbench's photographs, by where each came from
const inCgbench = new Set<string>();
const byOrigin = new Map<string, string>();
if (v.cgbench) {
  const root = resolve(v.cgbench);
  for (const r of table(await Deno.readTextFile(join(root, "SOURCES.csv")), "SOURCES.csv")) {
    if (r.Label !== "0") continue;
    const m = r.source.match(/^(debian|github):([^ @(]+)/);
    const origin = !m ? "cgbench-other" : m[1] === "debian" ? m[2] : "kodak";
    inCgbench.add(r.original_path.replace(/^\//, ""));
    const dir = join(out, origin, "cgbench");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.copyFile(join(root, r.Name), join(dir, basename(r.Name)));
    byOrigin.set(origin, m?.[1] === "github" ? `${r.licence}; ${r.source}` : r.source);
  }
}

// 3. the Debian packages' photographs, less those cgbench holds (resized there)
const packages = new Set<string>();
if (v.debian && v["debian-manifest"]) {
  const rows = table(await Deno.readTextFile(v["debian-manifest"]), "manifest.tsv", "\t");
  let skipped = 0, absent = 0;
  for (const r of rows) {
    const pkg = r.source.replace(/^npm:@?/, "").replace("/", "-");
    if ([...inCgbench].some((p) => r.path.endsWith(p))) {
      skipped++;
      continue;
    }
    const from = join(resolve(v.debian), r.path);
    const to = join(out, pkg, r.path.replace(/^(x\/[^/]+|npm\/[^/]+|gcompris|e17)\//, ""));
    await Deno.mkdir(dirname(to), { recursive: true });
    try {
      await Deno.copyFile(from, to);
      packages.add(pkg);
    } catch {
      absent++;
    }
  }
  console.error(
    `debian: ${
      rows.length - skipped - absent
    } files (${skipped} already in cgbench, ${absent} absent)`,
  );
}
for (const pkg of new Set([...packages, ...byOrigin.keys()])) {
  if (spec.some((s) => s[0] === pkg)) continue;
  const licence = pkg === "kodak"
    ? byOrigin.get(pkg)!
    : `Debian package ${pkg}: see /usr/share/doc/${pkg}/copyright`;
  spec.push([pkg, pkg, licence, "", ""]);
}
await Deno.writeTextFile(
  join(out, "sources.csv"),
  formatCsv(["source", "dir", "licence", "include", "exclude"], spec),
);
console.error(
  `${spec.length} sources; next: deno task make-natural --sources ${
    join(out, "sources.csv")
  } --out DIR`,
);
