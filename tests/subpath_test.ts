/**
 * Sub-path exports: each package of lib/ is a sub-path of the toolkit (`deno.json` `exports`),
 * and a script importing one by URL gets that stage and the earlier ones only.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { withTempDir } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const EXPORTS: Record<string, string> =
  JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).exports;
/** The later stages each sub-path must not pull in. */
const LATER: Record<string, string[]> = {
  "./data": ["lib/map/", "lib/features/", "lib/oneclass/", "lib/head/", "lib/eval/", "lib/detect/"],
  "./oneclass": ["lib/head/", "lib/detect/", "lib/eval/"],
  "./head": ["lib/detect/", "lib/eval/"],
  "./detect": ["lib/eval/"],
};

Deno.test("sub-paths: one per package of lib/, and mod.ts as the whole", async () => {
  const packages: string[] = [];
  for await (const e of Deno.readDir(join(ROOT, "lib"))) if (e.isDirectory) packages.push(e.name);
  assert.equal(EXPORTS["."], "./mod.ts");
  assert.deepEqual(
    Object.keys(EXPORTS).filter((k) => k !== ".").sort(),
    packages.map((p) => `./${p}`).sort(),
  );
  for (const [k, v] of Object.entries(EXPORTS)) {
    if (k !== ".") assert.equal(v, `./lib/${k.slice(2)}/mod.ts`);
  }
});

Deno.test("sub-paths: imported over HTTP, a package brings no later stage and works", async () => {
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      try {
        const file = join(ROOT, decodeURIComponent(new URL(req.url).pathname));
        return new Response(await Deno.readFile(file), {
          headers: { "content-type": "application/typescript" },
        });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  const deno = (args: string[], cwd: string) =>
    new Deno.Command(Deno.execPath(), { args, cwd, stdout: "piped", stderr: "piped" }).output();
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    await withTempDir(async (dir) => {
      for (const [sub, later] of Object.entries(LATER)) {
        const url = `${base}/${EXPORTS[sub].slice(2)}`;
        const o = await deno(
          ["info", "--json", "--no-lock", "--no-config", "--allow-import=127.0.0.1", url],
          dir,
        );
        assert.ok(o.success, new TextDecoder().decode(o.stderr));
        const modules: string[] = JSON.parse(new TextDecoder().decode(o.stdout)).modules
          .map((m: { specifier: string }) => m.specifier)
          .filter((s: string) => s.startsWith(base));
        assert.ok(modules.length > 3, `${sub}: ${modules.length} modules`);
        const wrong = modules.filter((m) => later.some((l) => m.includes(`/${l}`)));
        assert.deepEqual(wrong, [], `${sub} pulls in later stages`);
      }
      // a user's script, no config of ours, fitting a one-class model from the sub-path alone
      const script = join(dir, "fit.ts");
      await Deno.writeTextFile(
        script,
        `const { GaussianOneClass } = await import(Deno.args[0]);
const x = Float32Array.from({ length: 100 * 4 }, (_, i) => Math.sin(i * 1.3));
const m = await new GaussianOneClass().fit(x, 100, 4);
console.log(JSON.stringify([...await m.predict(new Float32Array(4).fill(30), 1)]));
m.dispose();
`,
      );
      const o = await deno([
        "run",
        "--no-lock",
        "--no-config",
        "--allow-import=127.0.0.1",
        "--allow-read",
        "--allow-env",
        script,
        `${base}/${EXPORTS["./oneclass"].slice(2)}`,
      ], dir);
      assert.ok(o.success, new TextDecoder().decode(o.stderr));
      assert.equal(new TextDecoder().decode(o.stdout).trim().split("\n").pop(), "[1]");
    });
  } finally {
    ac.abort();
    await server.finished;
  }
});
