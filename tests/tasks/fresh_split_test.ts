/**
 * The fresh independent set's photographs (tasks/independent/fresh_split.ts): whole sources drawn
 * before any fitting, none of them in what a detector is fitted on, cgbench's photographs never in
 * the set, the two largest sources never drawn, and the same draw for the same seed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "../_helpers.ts";

const SCRIPT = new URL("../../tasks/independent/fresh_split.ts", import.meta.url).pathname;

/** Runs the script on `csv` into `out` with `seed`; its stdout. */
async function split(csv: string, out: string, seed: string): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      SCRIPT,
      "--natural-csv",
      csv,
      "--out",
      out,
      "--seed",
      seed,
      "--count",
      "2",
      "--min",
      "3",
    ],
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  return new TextDecoder().decode(r.stdout);
}

/** The rows of a CSV written by the script, as [name, group]. */
async function rows(file: string): Promise<string[][]> {
  const lines = (await Deno.readTextFile(file)).trim().split("\n");
  assert.equal(lines[0], "Name,Label,Group");
  return lines.slice(1).map((l) => l.split(",")).map((f) => [f[0], f[2]]);
}

Deno.test("fresh split: whole sources held out of the fit, never cgbench's photographs, a seeded draw", async () => {
  await withTempDir(async (dir) => {
    // sources: two large ones, four of 3 to 5 photographs, one of 2, and one that has 3 only
    // with cgbench's photographs counted
    const sizes: Record<string, number> = { big1: 20, big2: 15, a: 3, b: 4, c: 5, d: 3, tiny: 2 };
    const lines = ["Name,Label,Group"];
    for (const [s, n] of Object.entries(sizes)) {
      for (let i = 0; i < n; i++) lines.push(`${s}/p${i}.png,0,${s}`);
    }
    for (let i = 0; i < 2; i++) lines.push(`mixed/cgbench/photo_${i}.png,0,mixed`);
    lines.push("mixed/own.png,0,mixed", "c/cgbench/photo_9.png,0,c");
    const csv = join(dir, "list.csv");
    await Deno.writeTextFile(csv, lines.join("\n") + "\n");
    const said = await split(csv, join(dir, "one"), "7");
    assert.match(said, /left out of the draw, the two largest: big1, big2/);
    assert.match(said, /eligible \(at least 3 photographs not cgbench's\): a, b, c, d\n/);
    const fit = await rows(join(dir, "one/fit.csv"));
    const photos = await rows(join(dir, "one/photos.csv"));
    const drawn = [...new Set(photos.map(([, g]) => g))].sort();
    assert.equal(drawn.length, 2);
    for (const s of drawn) assert.ok(["a", "b", "c", "d"].includes(s), s);
    // no drawn source in the fit; every other row is; cgbench's photographs are never in the set
    assert.ok(fit.every(([, g]) => !drawn.includes(g)));
    const all = lines.slice(1).map((l) => l.split(",")).map((f) => [f[0], f[2]]);
    assert.deepEqual(
      fit.map(([n]) => n),
      all.filter(([, g]) => !drawn.includes(g)).map(([n]) => n),
    );
    assert.deepEqual(
      photos.map(([n]) => n),
      all.filter(([n, g]) => drawn.includes(g) && !n.includes("/cgbench/")).map(([n]) => n),
    );
    // the same seed draws the same sources
    await split(csv, join(dir, "again"), "7");
    assert.deepEqual(await rows(join(dir, "again/photos.csv")), photos);
    assert.match(await Deno.readTextFile(join(dir, "one/held-out.txt")), /Rng\("fresh:7"\)/);
  });
});
