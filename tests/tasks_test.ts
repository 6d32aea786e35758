/**
 * Least privilege: every deno task declares only the permissions it needs, and each
 * user-facing task does its job with exactly those flags (run through `deno task` itself).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SHIPPED } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const TASKS: Record<string, { command: string }> =
  JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json"))).tasks;

Deno.test("tasks: no task has blanket permissions; network only where it is needed", () => {
  for (const [name, t] of Object.entries(TASKS)) {
    assert.doesNotMatch(t.command, /(^|\s)(-A|--allow-all)(\s|$)/, name);
    const net = /--allow-net(=(\S+))?/.exec(t.command);
    if (net) assert.equal(net[2], "127.0.0.1", `${name} may only reach 127.0.0.1`);
    if (
      /cli\/main\.ts (train-map|train-flow|evaluate|experiment|demo|detect|report)/.test(t.command)
    ) {
      assert.match(t.command, /--allow-write=runs(\s|,)/, `${name} writes only under runs/`);
      assert.doesNotMatch(t.command, /--allow-run/, name);
    }
  }
});

async function task(
  name: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", name, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return {
    code: o.code,
    out: new TextDecoder().decode(o.stdout),
    err: new TextDecoder().decode(o.stderr),
  };
}

Deno.test("tasks: manifest, train-map, train-flow, evaluate, report, detect, export-detector run with exactly their flags", async () => {
  const runs = `runs/.tasks-test-${Deno.pid}`;
  try {
    const m = await task("manifest", SHIPPED, "--natural", "Photos");
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, /^Name,Label\nCycles\/cycles_00000\.png,1\n/);
    const common = ["--runs", runs];
    const tm = await task(
      "train-map",
      "--data",
      "dataset",
      "--renderer",
      "POVRay",
      "--name",
      "t",
      "--crop",
      "80",
      "--width",
      "4",
      "--fc",
      "16",
      "--epochs",
      "1",
      ...common,
    );
    assert.equal(tm.code, 0, tm.err);
    assert.match(tm.err, /backend native/, "the native backend runs under the task's --allow-ffi");
    const tf = await task(
      "train-oneclass",
      "--map",
      "t",
      "--hidden",
      "8",
      "--depth",
      "1",
      "--epochs",
      "2",
      ...common,
    );
    assert.equal(tf.code, 0, tf.err);
    const ev = await task(
      "evaluate",
      "--map",
      "t",
      "--tiles",
      "1",
      "--bootstrap",
      "20",
      ...common,
    );
    assert.equal(ev.code, 0, ev.err);
    const rp = await task("report", "--map", "t", ...common);
    assert.equal(rp.code, 0, rp.err);
    assert.match(rp.out.trim(), /report\.html$/);
    const dt = await task(
      "detect",
      "dataset/POVRay/povray_00003.png",
      "--map",
      "t",
      "--json",
      ...common,
    );
    assert.equal(dt.code, 0, dt.err);
    assert.equal(JSON.parse(dt.out).results.length, 1);
    const ex = await task(
      "export-detector",
      "--map",
      "t",
      "--out",
      `${runs}/det`,
      ...common,
    );
    assert.equal(ex.code, 0, ex.err);
    // writing outside runs/ is refused with a clear one-line error
    const bad = await task(
      "train-map",
      "--data",
      "dataset",
      "--epochs",
      "1",
      "--runs",
      "/tmp/cgvsni-not-allowed",
      "--name",
      "x",
    );
    assert.equal(bad.code, 1);
    assert.match(
      bad.err.trim().split("\n").pop()!,
      /^error: (cannot write \/tmp\/cgvsni-not-allowed.*: permission denied|permission denied)/,
    );
  } finally {
    await Deno.remove(join(ROOT, runs), { recursive: true }).catch(() => {});
  }
});
