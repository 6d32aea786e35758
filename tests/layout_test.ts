/**
 * The package layout tells the pipeline's story: an image goes data → map → features →
 * one-class → evaluation/detection, and no package imports from a later stage. `core`,
 * `backends` and `runs` are infrastructure every stage may use.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
/** Stage of each package of lib/: a package may import only from its own stage or earlier ones. */
const STAGE: Record<string, number> = {
  core: 0,
  backends: 1,
  runs: 1,
  data: 2,
  map: 3,
  features: 4,
  oneclass: 5,
  eval: 6,
  detect: 6,
};

async function* tsFiles(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* tsFiles(p);
    else if (e.name.endsWith(".ts")) yield p;
  }
}

Deno.test("layout: every folder of lib/ is a stage or infrastructure, with a mod.ts", async () => {
  const found: string[] = [];
  for await (const e of Deno.readDir(join(ROOT, "lib"))) {
    if (!e.isDirectory) continue;
    found.push(e.name);
    await Deno.stat(join(ROOT, "lib", e.name, "mod.ts"));
  }
  assert.deepEqual(found.sort(), Object.keys(STAGE).sort());
});

Deno.test("layout: no package of lib/ imports from a later stage", async () => {
  const wrong: string[] = [];
  let imports = 0;
  for await (const file of tsFiles(join(ROOT, "lib"))) {
    const from = relative(join(ROOT, "lib"), file).split("/")[0];
    const text = await Deno.readTextFile(file);
    for (const m of text.matchAll(/(?:from\s+|import\()\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = relative(join(ROOT, "lib"), normalize(join(dirname(file), m[1])));
      const to = target.split("/")[0];
      if (to.startsWith("..") || !(to in STAGE)) continue;
      imports++;
      if (STAGE[to] > STAGE[from]) wrong.push(`${relative(ROOT, file)} imports lib/${target}`);
    }
  }
  assert.ok(imports > 100, `only ${imports} imports read: the pattern is broken`);
  assert.deepEqual(wrong, []);
});
