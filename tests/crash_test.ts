/**
 * Crash safety: train-map and train-flow killed with SIGKILL in the middle of a run, then
 * resumed, end with the same results a clean run gives; what a killed run leaves is never
 * half-written; a run folder that cannot be written is a clear error and the last checkpoint
 * survives.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadBundle } from "../lib/core/bundle.ts";
import { loadENet } from "../lib/map/io.ts";
import { listCheckpoints, readMetrics } from "../lib/runs/folder.ts";
import { SHIPPED, withTempDir } from "./_helpers.ts";

const CLI = new URL("../cli/main.ts", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-env", "--allow-ffi", "--allow-sys"];

async function csv(dir: string): Promise<string> {
  const text = await Deno.readTextFile(join(SHIPPED, "dataset.csv"));
  const rows = text.trim().split("\n").slice(1).filter((r) => /^(Photos|POVRay)\//.test(r)).map((
    r,
  ) => r.replace(/,3,/, ",1,"));
  const path = join(dir, "subset.csv");
  await Deno.writeTextFile(path, ["Name,Label,Group", ...rows].join("\n") + "\n");
  return path;
}

function mapArgs(dir: string, csvPath: string, name: string): string[] {
  return [
    "train-map",
    "--data",
    SHIPPED,
    "--csv",
    csvPath,
    "--runs",
    join(dir, "runs"),
    "--name",
    name,
    "--set",
    "crop=80",
    "--set",
    "width=4",
    "--set",
    "fc=16",
    "--epochs",
    "8",
    "--set",
    "batch-size=8",
    "--set",
    "keep-checkpoints=3",
  ];
}

function run(args: string[], write: string) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, `--allow-write=${write}`, CLI, ...args],
    // one thread for every run: the default follows the machine's load, and runs with other
    // thread counts are not bit-identical (a clean and a resumed run are compared below)
    env: { CGVSNI_THREADS: "1" },
    stdout: "null",
    stderr: "piped",
  });
}

/** Starts a command and SIGKILLs it once `ready()` holds (polled), or fails after a timeout. */
async function killWhen(cmd: Deno.Command, ready: () => Promise<boolean>): Promise<void> {
  const p = cmd.spawn();
  const t0 = Date.now();
  while (!(await ready())) {
    if (Date.now() - t0 > 120_000) throw new Error("the run never reached the kill point");
    await new Promise((r) => setTimeout(r, 20));
  }
  p.kill("SIGKILL");
  const st = await p.status;
  assert.equal(st.signal, "SIGKILL", "the run finished before it could be killed");
}

async function allJsonParses(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) await allJsonParses(p);
    else if (e.name.endsWith(".json") && !e.name.startsWith(".")) {
      JSON.parse(await Deno.readTextFile(p));
    }
  }
}

const strip = (ms: Record<string, number>[]) =>
  ms.map(({ seconds: _s, images_per_second: _i, val_recall, ...m }) => ({
    ...m,
    ...Object.fromEntries(
      Object.entries((val_recall ?? {}) as unknown as Record<string, number>).map((
        [k, v],
      ) => [`val_recall ${k}`, v]),
    ),
  }));

Deno.test("crash: train-map killed mid-run resumes from its last checkpoint and ends as a clean run", async () => {
  await withTempDir(async (dir) => {
    const path = await csv(dir);
    const runs = join(dir, "runs");
    assert.ok((await run(mapArgs(dir, path, "clean"), runs).output()).success);
    await killWhen(
      run(mapArgs(dir, path, "killed"), runs),
      async () => (await listCheckpoints(join(runs, "killed"))).length >= 2,
    );
    // nothing half-written: every manifest parses, the newest checkpoint loads (sizes and checksums)
    await allJsonParses(join(runs, "killed"));
    const last = (await listCheckpoints(join(runs, "killed"))).pop()!;
    (await loadENet(last.dir, "model")).net.dispose();
    await loadBundle(last.dir, "optim");
    const before = await readMetrics(join(runs, "killed"));
    assert.ok(before.length >= 2 && before.length < 8, `killed after ${before.length} epochs`);
    const resumed = await run(["train-map", "--runs", runs, "--name", "killed", "--resume"], runs)
      .output();
    assert.ok(resumed.success, new TextDecoder().decode(resumed.stderr));
    assert.match(new TextDecoder().decode(resumed.stderr), /resuming after epoch \d+/);
    const a = strip(await readMetrics(join(runs, "clean"))),
      b = strip(await readMetrics(join(runs, "killed")));
    assert.deepEqual(b.map((m) => m.epoch), [1, 2, 3, 4, 5, 6, 7, 8]);
    a.forEach((m, i) =>
      Object.keys(m).forEach((k) =>
        assert.ok(Math.abs(m[k] - b[i][k]) < 1e-4, `epoch ${i + 1} ${k}`)
      )
    );
    const files = async (r: string) =>
      (await Array.fromAsync(Deno.readDir(join(runs, r)))).map((e) => e.name).filter((n) =>
        !n.startsWith(".")
      ).sort();
    assert.deepEqual(await files("killed"), await files("clean"));
    const stale = (await Array.fromAsync(Deno.readDir(join(runs, "killed")))).filter((e) =>
      e.name.includes(".tmp-")
    );
    assert.deepEqual(stale, []);
  });
});

Deno.test("crash: train-oneclass killed mid-run resumes and ends as a clean run", async () => {
  await withTempDir(async (dir) => {
    const path = await csv(dir);
    const runs = join(dir, "runs");
    const m = mapArgs(dir, path, "map");
    m[m.indexOf("--epochs") + 1] = "1";
    assert.ok((await run(m, runs).output()).success);
    const flow = (
      name: string,
    ) => [
      "train-oneclass",
      "--map",
      "map",
      "--runs",
      runs,
      "--name",
      name,
      "--set",
      "hidden=16",
      "--set",
      "depth=1",
      "--set",
      "epochs=40",
      "--set",
      "checkpoint-every=2",
      "--tiles",
      "2",
    ];
    assert.ok((await run(flow("clean"), runs).output()).success);
    await killWhen(
      run(flow("killed"), runs),
      async () => (await listCheckpoints(join(runs, "map/killed"))).length >= 1,
    );
    await allJsonParses(join(runs, "map/killed"));
    const resumed = await run([...flow("killed"), "--resume"], runs).output();
    assert.ok(resumed.success, new TextDecoder().decode(resumed.stderr));
    const a = strip(await readMetrics(join(runs, "map/clean"))),
      b = strip(await readMetrics(join(runs, "map/killed")));
    assert.equal(b.length, 40);
    a.forEach((x, i) =>
      Object.keys(x).forEach((k) =>
        assert.ok(
          Math.abs(x[k] - b[i][k]) < 1e-3 * Math.max(1, Math.abs(x[k])),
          `epoch ${i + 1} ${k}`,
        )
      )
    );
  });
});

Deno.test("crash: an unwritable run folder is a clear error and the last checkpoint survives", async () => {
  await withTempDir(async (dir) => {
    const path = await csv(dir);
    const runs = join(dir, "runs");
    const args = mapArgs(dir, path, "r");
    args[args.indexOf("--epochs") + 1] = "2";
    assert.ok((await run(args, runs).output()).success);
    // continue for more epochs, now without permission to write the run folder
    const out = await run(
      ["train-map", "--runs", runs, "--name", "r", "--resume", "--epochs", "4"],
      join(dir, "elsewhere"),
    ).output();
    assert.equal(out.code, 1);
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").pop()!;
    assert.match(err, /^error: cannot write .*: permission denied \(.*--allow-write=.*\)$/);
    const last = (await listCheckpoints(join(runs, "r"))).pop()!;
    assert.equal(last.epoch, 2);
    (await loadENet(last.dir, "model")).net.dispose();
  });
});
