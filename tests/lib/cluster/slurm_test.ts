/**
 * The Slurm executor against a recording fake of sbatch and squeue: scripts, arrays,
 * dependencies, requeue on preemption, and resubmission that submits only what is missing. The
 * real Slurm runs in tests/cluster/slurm_test.ts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  arraySpec,
  clusterStatus,
  type Exec,
  fingerprint,
  inputsOf,
  markDone,
  markFailed,
  parseResources,
  sbatchScript,
  type SlurmOptions,
  slurmTime,
  submit,
  type Unit,
  type UnitKinds,
  writeGraph,
} from "../../../lib/cluster/mod.ts";
import { withTempDir } from "../../_helpers.ts";
import { main } from "../../../cli/main.ts";

const kinds: UnitKinds = {
  train: {
    resources: { cpus: 4, memMB: 8192, minutes: 90 },
    preemptible: true,
    run: () => Promise.resolve(),
  },
  score: { resources: { cpus: 2, memMB: 2048, minutes: 30 }, run: () => Promise.resolve() },
};

const options: SlurmOptions = {
  deno: "/opt/deno/bin/deno",
  main: "/opt/cgvsni/cli/main.ts",
  cwd: "/home/u/project",
  permissions: ["--allow-read", "--allow-write=/scratch/runs"],
  partition: "gpu",
  account: "lab",
  extra: ["--constraint=avx2"],
  resources: { score: { memMB: 4096 } },
};

/** A fake Slurm: sbatch hands out job ids and records its arguments; squeue reports `states`. */
function fakeSlurm() {
  let next = 100;
  const calls: string[][] = [];
  const states = new Map<string, string>();
  const exec: Exec = (cmd, args) => {
    calls.push([cmd, ...args]);
    if (cmd === "sbatch") return Promise.resolve({ code: 0, stdout: `${next++}\n`, stderr: "" });
    if (cmd === "squeue") {
      const ids = args[args.indexOf("-j") + 1].split(",");
      const lines = [...states].filter(([id]) => ids.includes(id.split("_")[0]))
        .map(([id, st]) => `${id}|${st}|${id}|N/A`);
      return Promise.resolve({ code: 0, stdout: lines.join("\n"), stderr: "" });
    }
    return Promise.resolve({ code: 1, stdout: "", stderr: `${cmd}: not faked` });
  };
  return { exec, calls, states, sbatch: () => calls.filter((c) => c[0] === "sbatch") };
}

const units: Unit[] = [
  { id: "train", kind: "train", after: [], params: {} },
  { id: "score", kind: "score", after: ["train"], shards: 4, params: {} },
  { id: "merge", kind: "score", after: ["score"], params: {} },
];

/** The three units above as graph `e` in `dir/e`. */
function graphIn(dir: string) {
  return writeGraph({ version: 1, name: "e", dir: join(dir, "e"), writes: [dir], units });
}

Deno.test("slurm: the job script asks for the kind's resources and runs run-unit with the task's permissions", async () => {
  const g = { version: 1 as const, name: "e1", dir: "/scratch/runs/e1", writes: [], units };
  const train = sbatchScript(g, units[0], kinds, options);
  for (
    const line of [
      "#SBATCH --cpus-per-task=4",
      "#SBATCH --mem=8192M",
      "#SBATCH --time=0-01:30:00",
      "#SBATCH --requeue",
      "#SBATCH --signal=B:TERM@120",
      "#SBATCH --partition=gpu",
      "#SBATCH --account=lab",
      "#SBATCH --constraint=avx2",
      "#SBATCH --output=/scratch/runs/e1/logs/train-%j.out",
      "cd /home/u/project",
      'scontrol requeue "$SLURM_JOB_ID"',
    ]
  ) assert.ok(train.includes(line), `${line} missing from\n${train}`);
  assert.match(
    train,
    /\/opt\/deno\/bin\/deno run --allow-read --allow-write=\/scratch\/runs \/opt\/cgvsni\/cli\/main.ts run-unit \/scratch\/runs\/e1 train --shard "\$shard"/,
  );
  assert.match(train, /trap 'kill -TERM "\$child" 2>\/dev\/null' TERM/);
  const score = sbatchScript(g, units[1], kinds, options);
  assert.ok(score.includes("#SBATCH --mem=4096M"), "--resources overrides the kind's memory");
  assert.ok(score.includes('shard="$SLURM_ARRAY_TASK_ID/4"'));
  assert.ok(train.includes('shard="1/1"'), "a unit without shards is 1/1, whatever the shell says");
  for (const script of [train, score]) {
    const check = new Deno.Command("bash", { args: ["-n"], stdin: "piped", stderr: "piped" })
      .spawn();
    const w = check.stdin.getWriter();
    await w.write(new TextEncoder().encode(script));
    await w.close();
    const r = await check.output();
    assert.equal(r.code, 0, `bash -n: ${new TextDecoder().decode(r.stderr)}`);
  }
  assert.ok(score.includes("#SBATCH --output=/scratch/runs/e1/logs/score-%A_%a.out"));
  assert.ok(score.includes("#SBATCH --no-requeue") && !score.includes("scontrol requeue"));
});

Deno.test("slurm: submit chains afterok dependencies, and submits again only what is missing", async () => {
  await withTempDir(async (dir) => {
    const g = await graphIn(dir);
    const slurm = fakeSlurm();
    const first = await submit(g, kinds, options, slurm.exec);
    assert.deepEqual(first.submitted.map((s) => [s.unit, s.job]), [
      ["train", "100"],
      ["score", "101"],
      ["merge", "102"],
    ]);
    const [a, b, c] = slurm.sbatch();
    assert.ok(!a.some((x) => x.startsWith("--dependency")));
    assert.ok(b.includes("--array=1-4") && b.includes("--dependency=afterok:100"), b.join(" "));
    assert.ok(c.includes("--dependency=afterok:101"), c.join(" "));
    for (const x of ["train", "score", "merge"]) {
      assert.ok((await Deno.readTextFile(join(g.dir, "slurm", `${x}.sbatch`))).startsWith("#!"));
    }

    // everything still queued: submitting again submits nothing
    slurm.states.set("100", "RUNNING");
    for (let i = 1; i <= 4; i++) slurm.states.set(`101_${i}`, "PENDING");
    slurm.states.set("102", "PENDING");
    const again = await submit(g, kinds, options, slurm.exec);
    assert.deepEqual(again.submitted, []);
    assert.deepEqual(again.queued, ["train", "score", "merge"]);

    // the jobs ended: train and three shards finished, shard 3 failed, merge was cancelled
    slurm.states.clear();
    await markDone(g.dir, units[0], { index: 1, count: 1 }, 1);
    for (const i of [1, 2, 4]) await markDone(g.dir, units[1], { index: i, count: 4 }, 1);
    await markFailed(g.dir, units[1], { index: 3, count: 4 }, "photo.jpg: truncated");
    slurm.states.set("101_3", "FAILED");
    slurm.states.set("102", "CANCELLED");
    const st = await clusterStatus(g, slurm.exec);
    assert.deepEqual(st.map((s) => [s.unit, s.finished, s.failed.length, s.lost]), [
      ["train", 1, 0, []],
      ["score", 3, 1, []],
      ["merge", 0, 0, [[1, "CANCELLED"]]],
    ]);
    const rerun = await submit(g, kinds, options, slurm.exec);
    assert.deepEqual(rerun.finished, ["train"]);
    assert.deepEqual(rerun.submitted.map((s) => [s.unit, s.shards]), [["score", [3]], [
      "merge",
      [1],
    ]]);
    const [s3, m2] = slurm.sbatch().slice(-2);
    assert.ok(s3.includes("--array=3") && !s3.some((x) => x.startsWith("--dependency")));
    assert.ok(m2.includes("--dependency=afterok:103"), m2.join(" "));

    // shard 3 failed while 1, 2 and 4 still run: what comes after waits on those tasks, not on
    // their array (afterok on the array would never hold)
    await Deno.remove(join(g.dir, "slurm", "jobs.jsonl"));
    await Deno.remove(join(g.dir, "units", "score"), { recursive: true });
    await Deno.remove(join(g.dir, "units", "merge"), { recursive: true }).catch(() => {});
    await Deno.writeTextFile(
      join(g.dir, "slurm", "jobs.jsonl"),
      JSON.stringify({ unit: "score", job: "200", shards: [1, 2, 3, 4], submitted: "" }) + "\n",
    );
    slurm.states.clear();
    for (const i of [1, 2, 4]) slurm.states.set(`200_${i}`, "RUNNING");
    slurm.states.set("200_3", "FAILED");
    await submit(g, kinds, options, slurm.exec);
    const [again3, merge3] = slurm.sbatch().slice(-2);
    assert.ok(again3.includes("--array=3"), again3.join(" "));
    const dep = merge3.find((x) => x.startsWith("--dependency="))!;
    assert.deepEqual(dep.split(":").slice(1).sort(), ["105", "200_1", "200_2", "200_4"]);

    // a controller that does not answer is not "every job gone": nothing is submitted
    const n = slurm.sbatch().length;
    const down: Exec = (cmd, args) =>
      cmd === "squeue"
        ? Promise.resolve({
          code: 1,
          stdout: "",
          stderr: "slurm_load_jobs error: Socket timed out",
        })
        : slurm.exec(cmd, args);
    await assert.rejects(submit(g, kinds, options, down), /squeue failed: .*timed out/);
    assert.equal(slurm.sbatch().length, n);
  });
});

Deno.test("slurm: a finished unit whose outputs are gone is submitted again with what comes after it; their jobs decide whether to redo", async () => {
  await withTempDir(async (dir) => {
    const out = join(dir, "train.out");
    const withOutputs: UnitKinds = {
      ...kinds,
      train: { ...kinds.train, outputs: () => [out] },
    };
    const g = await graphIn(dir);
    await Deno.writeTextFile(out, "weights");
    // finished, each marker with what it was made from (as run-unit records it)
    for (const u of units) {
      const inputs = await inputsOf(g, u, withOutputs);
      for (let i = 1; i <= (u.shards ?? 1); i++) {
        await markDone(g.dir, u, { index: i, count: u.shards ?? 1 }, 1, inputs);
      }
    }
    const slurm = fakeSlurm();
    assert.deepEqual((await submit(g, withOutputs, options, slurm.exec)).submitted, []);
    // the training's output deleted: it is not finished, and the shards made from it are not
    // either (what they were made from is gone); the merge's input, the shards, has not changed
    await Deno.remove(out);
    const st = await clusterStatus(g, slurm.exec, withOutputs);
    assert.deepEqual(st.map((s) => [s.unit, s.finished]), [["train", 0], ["score", 0], [
      "merge",
      1,
    ]]);
    // submitted: it, and what needs it, in order; each job sees at its start whether it must redo
    const again = await submit(g, withOutputs, options, slurm.exec);
    assert.deepEqual(again.submitted.map((s) => [s.unit, s.shards]), [
      ["train", [1]],
      ["score", [1, 2, 3, 4]],
      ["merge", [1]],
    ]);
    // the training made the same file again: the shards are finished after all (their jobs
    // will say so and end at once)
    await Deno.writeTextFile(out, "weights");
    const after = await clusterStatus(g, slurm.exec, withOutputs);
    assert.deepEqual(after.map((s) => s.finished), [1, 4, 1]);
    // a unit with jobs still waiting is not sent again behind a new job it would not wait for
    await Deno.remove(out);
    slurm.states.set(`${again.submitted[1].job}_2`, "PENDING");
    slurm.states.set(`${again.submitted[1].job}_3`, "PENDING");
    await assert.rejects(
      submit(g, withOutputs, options, slurm.exec),
      /unit score still has jobs queued or running .* cancel them/,
    );
  });
});

Deno.test("slurm: one submit at a time per folder; a job refuses a unit rewritten since it was submitted", async () => {
  await withTempDir(async (dir) => {
    const g = await graphIn(dir);
    const slurm = fakeSlurm();
    // another submit holds the lock: refused, nothing submitted
    await Deno.mkdir(join(g.dir, "slurm"), { recursive: true });
    const lock = join(g.dir, "slurm", "submit.lock");
    await Deno.writeTextFile(lock, "4242 2026-12-05T10:00:00Z\n");
    await assert.rejects(
      submit(g, kinds, options, slurm.exec),
      /another submit on .* is under way/,
    );
    assert.equal(slurm.sbatch().length, 0);
    // a lock left by a crash an hour ago is taken over; the lock goes when submit ends
    const old = new Date(Date.now() - 2 * 3600_000);
    await Deno.utime(lock, old, old);
    assert.equal((await submit(g, kinds, options, slurm.exec)).submitted.length, 3);
    await assert.rejects(Deno.stat(lock), Deno.errors.NotFound);
    // the job script names the unit as submitted; run-unit refuses it once the graph changed
    const script = await Deno.readTextFile(join(g.dir, "slurm", "score.sbatch"));
    const expect = /--expect=(\S+)/.exec(script)![1];
    assert.equal(expect, fingerprint(units[1]));
    await writeGraph({
      ...g,
      units: [units[0], { ...units[1], params: { other: 1 } }, units[2]],
    });
    const said: string[] = [], error = console.error;
    console.error = (...a: unknown[]) => said.push(a.join(" "));
    try {
      const code = await main(["run-unit", g.dir, "score", "--shard", "1/4", `--expect=${expect}`]);
      assert.equal(code, 1);
    } finally {
      console.error = error;
    }
    assert.match(said.join("\n"), /unit score of .* changed since this job was submitted/);
    await assert.rejects(Deno.stat(join(g.dir, "units", "score")), Deno.errors.NotFound);
  });
});

Deno.test("slurm: times, array ranges and --resources are read and written as Slurm does", () => {
  assert.equal(slurmTime(90), "0-01:30:00");
  assert.equal(slurmTime(36 * 60 + 0.5), "1-12:00:30");
  assert.equal(arraySpec([5, 1, 2, 3, 7, 8]), "1-3,5,7-8");
  assert.deepEqual(parseResources("map=cpus:8,mem:32G,time:2-00:00:00"), [
    "map",
    { cpus: 8, memMB: 32768, minutes: 2880 },
  ]);
  assert.deepEqual(parseResources("detect=time:45"), ["detect", { minutes: 45 }]);
  assert.throws(() => parseResources("map=gpus:1"), /cannot read "gpus:1"/);
  assert.throws(() => parseResources("cpus:4"), /KIND=/);
});
