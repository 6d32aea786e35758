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
      /cli\/main\.ts (train-map|train-oneclass|evaluate|experiment|oneclass-matrix|robustness|demo|detect|report)/
        .test(t.command)
    ) {
      assert.match(t.command, /--allow-write=runs(\s|,)/, `${name} writes only under runs/`);
      assert.doesNotMatch(t.command, /--allow-run/, name);
    }
  }
});

Deno.test("tasks: only submit and status may run programs, and only Slurm's", () => {
  for (const [name, t] of Object.entries(TASKS)) {
    if (!/cli\/main\.ts /.test(t.command)) continue;
    const run = /--allow-run(=(\S+))?/.exec(t.command);
    if (name === "submit" || name === "status") {
      assert.equal(run?.[2], "sbatch,squeue,scontrol,sacct", name);
    } else assert.equal(run, null, `${name} may not run programs`);
  }
  assert.doesNotMatch(TASKS["run-unit"].command, /--allow-run/, "a job runs no programs");
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

Deno.test("tasks: every task answers --help, and a bogus flag with one line and exit 2, never a stack trace", async () => {
  const skip = new Set(["test", "check"]); // deno's own commands
  for (const name of Object.keys(TASKS).filter((n) => !skip.has(n))) {
    const h = await task(name, "--help");
    assert.equal(h.code, 0, `${name} --help: ${h.err}`);
    assert.match(h.out, /[Ff]lags|deno task strict/, `${name} --help`);
    const b = await task(name, "--no-such-flag");
    assert.equal(b.code, 2, `${name} --no-such-flag exits ${b.code}: ${b.err}`);
    const lines = b.err.trim().split("\n");
    assert.equal(lines.length, 1, `${name}: ${b.err}`);
    assert.doesNotMatch(b.err, /Uncaught| {4}at |Stack backtrace/, name);
  }
});

Deno.test("tasks: the strict sandbox scores a folder on WebAssembly and refuses a link to a file outside it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cgvsni-strict-" });
  try {
    await Deno.mkdir(join(dir, "in"));
    await Deno.mkdir(join(dir, "elsewhere"));
    await Deno.copyFile(join(SHIPPED, "Photos/photo_00001.png"), join(dir, "in/photo.png"));
    await Deno.writeTextFile(join(dir, "in/bad.png"), "not a png");
    await Deno.copyFile(
      join(SHIPPED, "Cycles/cycles_00000.png"),
      join(dir, "elsewhere/private.png"),
    );
    await Deno.symlink(join(dir, "elsewhere/private.png"), join(dir, "in/link.png"));
    const r = await task("strict", "detect", join(dir, "in"), "--json");
    assert.equal(r.code, 3, r.err);
    const out = JSON.parse(r.out);
    assert.deepEqual(out.results.map((x: { file: string }) => x.file.split("/").pop()), [
      "photo.png",
    ]);
    const errors = Object.fromEntries(
      out.errors.map((e: { file: string; error: string }) => [e.file.split("/").pop(), e.error]),
    );
    assert.match(errors["bad.png"], /not an image/);
    assert.match(
      errors["link.png"],
      /^permission denied: a symbolic link to .*private\.png, outside the paths/,
    );
    assert.match(r.err, /backend wasm/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tasks: manifest, train-map, train-oneclass, evaluate, report, detect, export-detector run with exactly their flags", async () => {
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
      "--set",
      "crop=80",
      "--set",
      "width=4",
      "--set",
      "fc=16",
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
      "--set",
      "hidden=8",
      "--set",
      "depth=1",
      "--set",
      "epochs=2",
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
    // the head decides at the threshold train-map set on natural images, and detect says where
    const head = JSON.parse(await Deno.readTextFile(join(ROOT, runs, "t", "head-threshold.json")));
    assert.ok(head.n > 0 && head.value > 0 && head.value < 1, JSON.stringify(head));
    assert.match(
      dt.err,
      new RegExp(`head p\\(CG\\) >= ${+head.value.toFixed(4)}, one-class score > 0`),
    );
    const ex = await task(
      "export-detector",
      "--map",
      "t",
      "--out",
      `${runs}/det`,
      ...common,
    );
    assert.equal(ex.code, 0, ex.err);
    const exported = JSON.parse(await Deno.readTextFile(join(ROOT, runs, "det", "detector.json")));
    assert.equal(exported.headThreshold.value, head.value);
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

Deno.test("docs: the public API's documentation passes deno doc --lint (every export typed and documented)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--lint", "mod.ts"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, text.split("\n").filter((l) => /error\[/.test(l)).join("\n"));
});
