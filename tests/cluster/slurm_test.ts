/**
 * Against a real Slurm (a private single-node controller and daemon on localhost, started by
 * tests/cluster/slurm_up.sh, or the one SLURM_CONF names): a 4-shard detect over dataset/ and a
 * 2-cell experiment submitted as jobs give exactly what the local executor gives; submitting
 * again submits nothing, and a lost shard alone is resubmitted; a training job sent SIGTERM
 * checkpoints, is requeued, resumes and ends with the uninterrupted run's weights. Where Slurm
 * cannot start, these tests are ignored and one line says why.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UNIT_KINDS } from "../../cli/_units.ts";
import { jobPermissions } from "../../cli/_cluster.ts";
import { type Graph, readGraph } from "../../lib/cluster/graph.ts";
import { clusterStatus, type SlurmOptions, submit, systemExec } from "../../lib/cluster/slurm.ts";
import { type ExperimentOptions, experimentPlan } from "../../lib/eval/experiment.ts";
import { SHIPPED, shippedSubset, tinyRowMap } from "../_helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = join(ROOT, "cli/main.ts");

/** Starts the private Slurm, or finds the one SLURM_CONF names; the reason when neither works. */
async function startSlurm(): Promise<{ conf?: string; stop?: string; why?: string }> {
  const given = Deno.env.get("SLURM_CONF");
  if (given) {
    const r = await systemExec("sinfo", ["-h", "-o", "%t"]).catch(() => undefined);
    if (r?.code === 0) return { conf: given };
  }
  const dir = await Deno.makeTempDir({ prefix: "cgvsni-slurm-" });
  const r = await new Deno.Command("bash", {
    args: [join(ROOT, "tests/cluster/slurm_up.sh"), dir, "2"],
    stdout: "piped",
    stderr: "piped",
  }).output().catch((e) => ({ code: 1, stdout: new Uint8Array(), stderr: String(e) }));
  const out = new TextDecoder().decode(r.stdout);
  const err = typeof r.stderr === "string" ? r.stderr : new TextDecoder().decode(r.stderr);
  const conf = /export SLURM_CONF=(\S+)/.exec(out)?.[1];
  if (r.code !== 0 || !conf) return { why: err.trim().split("\n").pop() || `exit ${r.code}` };
  return { conf, stop: dir };
}

const slurm = await startSlurm();
if (slurm.conf) {
  Deno.env.set("SLURM_CONF", slurm.conf);
  if (slurm.stop) {
    globalThis.addEventListener("unload", () => {
      new Deno.Command("bash", {
        args: [join(ROOT, "tests/cluster/slurm_up.sh"), "--down", slurm.stop!],
      }).outputSync();
    });
  }
} else console.log(`cluster: the real-Slurm tests are skipped: ${slurm.why}`);
const ignore = !slurm.conf;

/** Slurm options of the tests: one core per job, so that jobs compute as `--threads 1` here. */
function options(g: Graph, cpus = 1): SlurmOptions {
  return {
    deno: Deno.execPath(),
    main: MAIN,
    cwd: ROOT,
    permissions: jobPermissions(g),
    resources: Object.fromEntries(Object.keys(UNIT_KINDS).map((k) => [k, { cpus }])),
  };
}

/** Waits until every unit finished; fails on a failed or lost unit, or after `seconds`. */
async function waitFor(g: Graph, seconds = 300): Promise<number> {
  const t0 = performance.now();
  while (true) {
    const st = await clusterStatus(g);
    const bad = st.filter((s) => s.failed.length || s.lost.length);
    if (bad.length) {
      throw new Error(`units failed or lost: ${JSON.stringify(bad)}; logs in ${g.dir}/logs`);
    }
    if (st.every((s) => s.finished === s.shards)) return (performance.now() - t0) / 1000;
    if (performance.now() - t0 > seconds * 1000) {
      throw new Error(`not finished after ${seconds} s: ${JSON.stringify(st)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `deno run cli/main.ts ARGS` on one thread; its exit code and stderr. */
async function cli(...args: string[]): Promise<{ code: number; err: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args, "--threads", "1"],
    stdout: "null",
    stderr: "piped",
    cwd: ROOT,
    env: { NO_COLOR: "1" },
  }).output();
  return { code: o.code, err: new TextDecoder().decode(o.stderr) };
}

/** Every row of a sharded detection's shard files, in order, at full precision. */
async function shardRows(out: string): Promise<unknown[]> {
  const dir = join(out, "shards");
  const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  const rows: unknown[] = [];
  for (const n of names) {
    const [_head, ...rest] = (await Deno.readTextFile(join(dir, n))).split("\n").filter((l) => l);
    rows.push(...rest.map((l) => JSON.parse(l)));
  }
  return rows;
}

Deno.test({
  name:
    "slurm: a 4-shard detect over dataset/ equals one local process, bit for bit; again submits nothing; a lost shard alone is resubmitted",
  ignore,
  async fn() {
    // under runs/, where the detect task may write
    const dir = join(ROOT, "runs", `test-slurm-${crypto.randomUUID().slice(0, 8)}`);
    const one = join(dir, "one"), four = join(dir, "four");
    // the profile detector, a few times faster than the default: the sharding is what is tested
    const fast = ["--detector", join(ROOT, "models/corpus-profile")];
    assert.equal(
      (await cli("detect", "dataset", ...fast, "--quiet", "--shard", "1/1", "--out", one)).code,
      0,
    );
    // through the detect task itself: it may not run programs, so it writes the graph and says how
    const task = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "-q",
        "detect",
        "dataset",
        ...fast,
        "--jsonl",
        "--shards",
        "4",
        "--out",
        four,
        "--executor",
        "slurm",
      ],
      cwd: ROOT,
      stdout: "null",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(task.stderr);
    assert.equal(task.code, 0, err);
    assert.match(err, /submit its units with: deno task submit/);
    const g = await readGraph(four);
    const first = await submit(g, UNIT_KINDS, options(g));
    assert.deepEqual(first.submitted.map((s) => [s.unit, s.shards]), [
      ["detect", [1, 2, 3, 4]],
      ["merge", [1]],
    ]);
    const again = await submit(g, UNIT_KINDS, options(g));
    assert.deepEqual(again.submitted, [], "queued units are not submitted twice");
    await waitFor(g);
    const rows = await shardRows(four);
    // every image file under dataset/: the 160 of dataset.csv and the 8 of dataset/Production
    assert.equal(rows.length, 168);
    assert.deepEqual(rows, await shardRows(one), "the same scores, bit for bit, in the same order");
    const merged = await Deno.readTextFile(join(four, "results.jsonl"));
    const byHand = new TextDecoder().decode(
      (await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "detect", "--merge", one, "--jsonl"],
        cwd: ROOT,
        stdout: "piped",
        stderr: "null",
      }).output()).stdout,
    );
    assert.equal(merged, byHand);

    // everything finished: nothing to submit; then shard 2 is lost and resubmitted alone
    assert.deepEqual((await submit(g, UNIT_KINDS, options(g))).finished, ["detect", "merge"]);
    await Deno.remove(join(four, "units/detect/shard-0002-of-0004.done"));
    await Deno.remove(join(four, "shards/shard-0002-of-0004.jsonl"));
    await Deno.remove(join(four, "units/merge"), { recursive: true });
    const rerun = await submit(g, UNIT_KINDS, options(g));
    assert.deepEqual(rerun.submitted.map((s) => [s.unit, s.shards]), [["detect", [2]], [
      "merge",
      [1],
    ]]);
    await waitFor(g);
    assert.deepEqual(await shardRows(four), rows);
    assert.equal(await Deno.readTextFile(join(four, "results.jsonl")), merged);
    await Deno.remove(dir, { recursive: true });
  },
});

/** The tiny 2-cell experiment: leave out Cycles, leave out POV-Ray, on 12 photos and 8 of each renderer. */
async function twoCells(runs: string, extra: Partial<ExperimentOptions> = {}): Promise<Graph> {
  await Deno.mkdir(runs, { recursive: true });
  const csv = await shippedSubset(runs);
  return await experimentPlan({
    data: SHIPPED,
    runs,
    name: "two",
    protocol: "loro",
    renderers: ["Cycles", "POVRay"],
    map: tinyRowMap(csv),
    oneclass: { features: "residual", oneclass: "gauss", tiles: 2 },
    evaluation: { tiles: 2, bootstrap: 50, noControls: true },
    ...extra,
  });
}

Deno.test({
  name: "slurm: a 2-cell experiment as jobs with dependencies equals the local executor's",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cgvsni-slurm-exp-" });
    const local = await twoCells(join(dir, "local"));
    // the jobs compute each row's feature vectors in two slices (a job array), the local run in one
    const jobs = await twoCells(join(dir, "slurm"), { featureShards: 2 });
    assert.equal((await cli("submit", local.dir, "--executor", "local")).code, 0);
    const s = await submit(jobs, UNIT_KINDS, options(jobs));
    assert.equal(s.submitted.length, 9, "2 x (map, features, one-class, evaluation) + the matrix");
    assert.deepEqual(
      s.submitted.filter((x) => x.unit.startsWith("features-")).map((x) => x.shards),
      [[1, 2], [1, 2]],
    );
    await waitFor(jobs);
    const read = async (g: Graph, f: string) => JSON.parse(await Deno.readTextFile(join(g.dir, f)));
    assert.deepEqual(
      (await read(jobs, "matrix.json")).cells,
      (await read(local, "matrix.json")).cells,
    );
    for (const row of ["two-noCycles", "two-noPOVRay"]) {
      const ev = (g: Graph) =>
        Deno.readTextFile(join(g.dir, "..", row, "residual-gauss/evaluation/results.json"))
          .then((t) => JSON.parse(t).images);
      assert.deepEqual(await ev(jobs), await ev(local), `${row}: every image's scores`);
      const w = (g: Graph) => Deno.readFile(join(g.dir, "..", row, "model/model.bin"));
      assert.deepEqual(await w(jobs), await w(local), `${row}: the map's weights`);
      // the one-class fit and the evaluation read the slices: no list was computed whole
      const lists = async (g: Graph) =>
        (await Array.fromAsync(Deno.readDir(join(g.dir, "..", row, "features"))))
          .filter((e) => e.name.endsWith(".json")).length;
      assert.equal(await lists(jobs), 0, `${row}: vectors from the slices`);
    }
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "slurm: SIGTERM to a training job: checkpoint, requeue, resume, and the uninterrupted weights",
  ignore,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cgvsni-slurm-pre-" });
    const tiny: Partial<ExperimentOptions> = {
      map: { crop: 128, width: 8, fc: 32, epochs: 6, batchSize: 2 },
      protocol: "pairs",
      renderers: ["Cycles"],
    };
    const clean = await twoCells(join(dir, "clean"), tiny);
    const cut = await twoCells(join(dir, "cut"), tiny);
    assert.equal((await cli("run-unit", clean.dir, "map-Cycles")).code, 0);
    const one = { ...cut, units: cut.units.filter((u) => u.id === "map-Cycles") };
    const [job] = (await submit(one, UNIT_KINDS, options(one))).submitted;
    const log = join(cut.dir, "logs", `map-Cycles-${job.job}.out`);
    const t0 = performance.now();
    while (!/epoch 2\/6/.test(await Deno.readTextFile(log).catch(() => ""))) {
      if (performance.now() - t0 > 120_000) throw new Error("the job never reached epoch 2");
      await new Promise((r) => setTimeout(r, 50));
    }
    const sc = await systemExec("scancel", ["--signal=TERM", "--full", job.job]);
    assert.equal(sc.code, 0, sc.stderr);
    await waitFor(one, 400);
    const text = await Deno.readTextFile(log);
    assert.match(text, /stopped: .* stopped by SIGTERM/);
    assert.match(text, /requeueing job/);
    assert.match(text, /resuming (epoch \d at batch \d+|after epoch \d)/);
    const w = (g: Graph) => Deno.readFile(join(g.dir, "..", "two-Cycles", "model/model.bin"));
    assert.deepEqual(await w(cut), await w(clean), "the same final weights");
    await Deno.remove(dir, { recursive: true });
  },
});
