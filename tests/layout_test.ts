/**
 * The package layout tells the pipeline's story: an image goes data → map → features →
 * one-class (and the linear head beside it) → evaluation → detection (stages 1–6, numbered so in `mod.ts` and in every
 * package's header), no package imports from a later stage, and no file imports itself back
 * through others. `core`, `backends`, `runs` and `cluster` are infrastructure (stage 0) every stage may use.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = new URL("../", import.meta.url).pathname;
/** Stage of each package of lib/: a package may import only from its own stage or earlier ones. */
const STAGE: Record<string, number> = {
  core: 0,
  backends: 0,
  runs: 0,
  cluster: 0,
  data: 1,
  map: 2,
  features: 3,
  oneclass: 4,
  head: 4,
  detect: 5,
  eval: 6,
};

/** The relative imports of a file (code only: the examples in comments are not imports). */
async function importsOf(file: string): Promise<string[]> {
  const code = (await Deno.readTextFile(file)).split("\n")
    .filter((l) => !/^\s*(\*|\/\/)/.test(l)).join("\n");
  return [...code.matchAll(/(?:from\s+|import\()\s*"(\.{1,2}\/[^"]+\.ts)"/g)].map((m) =>
    normalize(join(dirname(file), m[1]))
  );
}

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

Deno.test("layout: no import cycle between files of lib/ and cli/, nor between packages", async () => {
  const graph = new Map<string, string[]>();
  for (const top of ["lib", "cli"]) {
    for await (const f of tsFiles(join(ROOT, top))) {
      graph.set(relative(ROOT, f), (await importsOf(f)).map((t) => relative(ROOT, t)));
    }
  }
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const walk = (f: string, path: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...path.slice(path.indexOf(f)), f].join(" -> "));
      return;
    }
    state.set(f, "open");
    for (const t of graph.get(f) ?? []) walk(t, [...path, f]);
    state.set(f, "done");
  };
  for (const f of graph.keys()) walk(f, []);
  assert.deepEqual(cycles, []);
  const pkg = (f: string) => f.split("/").slice(0, 2).join("/");
  const deps = new Set<string>();
  for (const [f, ts] of graph) {
    for (const t of ts) if (pkg(f) !== pkg(t)) deps.add(`${pkg(f)} ${pkg(t)}`);
  }
  const both = [...deps].filter((d) => deps.has(d.split(" ").reverse().join(" ")));
  assert.deepEqual(both, []);
  // the walk saw the imports: a broken pattern would pass vacuously
  assert.ok([...graph.values()].flat().length > 300);
});

Deno.test("layout: every module header of lib/ and cli/ is the maths and the contract, 25 lines at most", async () => {
  const long: string[] = [];
  let headers = 0;
  for (const top of ["lib", "cli"]) {
    for await (const f of tsFiles(join(ROOT, top))) {
      const lines = (await Deno.readTextFile(f)).split("\n");
      if (!lines[0].startsWith("/**")) continue;
      const end = lines.findIndex((l) => l.trim() === "*/");
      if (!lines.slice(0, end).some((l) => l.includes("@module"))) continue;
      headers++;
      if (end + 1 > 25) long.push(`${relative(ROOT, f)}: ${end + 1} lines`);
    }
  }
  assert.ok(headers > 80, `only ${headers} module headers found`);
  assert.deepEqual(long, []);
});

Deno.test("layout: a package's private files (_name.ts) are imported only inside it", async () => {
  const wrong: string[] = [];
  for (const top of ["lib", "cli"]) {
    for await (const f of tsFiles(join(ROOT, top))) {
      for (const t of await importsOf(f)) {
        if (t.split("/").pop()!.startsWith("_") && dirname(t) !== dirname(f)) {
          wrong.push(`${relative(ROOT, f)} imports ${relative(ROOT, t)}`);
        }
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("layout: each known default is written once, in lib/: no fallback, parameter or flag help restates it", async () => {
  const restated: string[] = [];
  for (const top of ["lib", "cli"]) {
    for await (const f of tsFiles(join(ROOT, top))) {
      const lines = (await Deno.readTextFile(f)).split("\n");
      lines.forEach((l, i) => {
        if (/^\s*(\*|\/\/)/.test(l)) return;
        // a default given as a literal instead of its constant (DEFAULT_KIND, DEFAULT_SOURCE,
        // DEFAULT_ONECLASS_RUN, DEFAULT_RUNS, DEFAULT_DATA, ONECLASS_STEM, DEFAULT_CROPS,
        // KNN_DEFAULTS, MATRIX_DEFAULTS, EXPERIMENT_DEFAULTS, DEFAULT_BOOTSTRAP, DEFAULT_NU, ...)
        if (/^export const [A-Z_]+\b/.test(l.trim())) return; // the one place each is stated
        const names = "flow|l9|runs|dataset|oneclass|tiles|euclidean|loro|pairs|experiment|demo";
        const named = new RegExp(
          `(\\?\\?|default:|[^=!<>]=|str\\(a, "[\\w-]+",)\\s*"(${names})"\\s*[,;)]`,
        );
        const numbers = /(\?\?|default:|[^=!<>]=)\s*"?(1000|0\.05|1024)"?\s*[,;)]/;
        // a flag's help default that is a number must come from lib/ (String(CONSTANT))
        const flagNumber = top === "cli" && /default: "[0-9.,]+"/.test(l) &&
          !/default: "0"/.test(l);
        if (named.test(l) || numbers.test(l) || flagNumber) {
          restated.push(`${relative(ROOT, f)}:${i + 1}: ${l.trim()}`);
        }
      });
    }
  }
  assert.deepEqual(restated, []);
});
