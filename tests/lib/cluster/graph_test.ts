/**
 * Shards tile the work in order; a graph's units run in dependency order, each once; a failed
 * unit is named, blocks only what needs it, and can be rerun alone; a changed unit runs again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  allShards,
  type Graph,
  isDone,
  orderUnits,
  parseShard,
  readGraph,
  runLocal,
  shardName,
  shardOf,
  shardRange,
  type Unit,
  type UnitKinds,
  unitState,
  writeGraph,
} from "../../../lib/cluster/mod.ts";
import { CgvsniError, Preempted, UsageError } from "../../../lib/core/errors.ts";
import { clearStop, stopRequested } from "../../../lib/runs/stop.ts";
import { makeProgress } from "../../../lib/core/progress.ts";
import { withTempDir } from "../../_helpers.ts";

const log = makeProgress({ quiet: true });
const unit = (id: string, after: string[] = [], shards?: number, params: unknown = id): Unit => ({
  id,
  kind: "k",
  after,
  ...(shards ? { shards } : {}),
  params,
});

Deno.test("shards: contiguous slices that tile any list in order, sizes within one", () => {
  for (let n = 0; n <= 23; n++) {
    for (let count = 1; count <= 9; count++) {
      const items = Array.from({ length: n }, (_, i) => i);
      const parts = allShards(count).map((s) => shardOf(items, s));
      assert.deepEqual(parts.flat(), items, `n ${n} N ${count}`);
      const sizes = parts.map((p) => p.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `n ${n} N ${count}: ${sizes}`);
      assert.deepEqual(shardRange(n, { index: count, count })[1], n);
    }
  }
  assert.deepEqual(parseShard("3/4"), { index: 3, count: 4 });
  for (const bad of ["0/4", "5/4", "1/0", "a/b", "2", "-1/3"]) {
    assert.throws(() => parseShard(bad), UsageError, bad);
  }
  const names = allShards(12).map(shardName);
  assert.deepEqual([...names].sort(), names, "file names sort in shard order");
});

Deno.test("graph: dependency order, and a missing dependency, a cycle or a duplicate refused", () => {
  assert.deepEqual(
    orderUnits([unit("m", ["a", "b"]), unit("b", ["a"]), unit("a")]).map((u) => u.id),
    ["a", "b", "m"],
  );
  assert.throws(() => orderUnits([unit("a", ["x"])]), /unit a needs x, which is not in the graph/);
  assert.throws(() => orderUnits([unit("a", ["b"]), unit("b", ["a"])]), /cycle: a -> b -> a/);
  assert.throws(() => orderUnits([unit("a"), unit("a")]), /listed twice/);
  assert.throws(() => orderUnits([unit("a/b")]), /bad unit id/);
});

/** Kinds that record what ran; `fail` names pieces that throw. */
function recorder(fail = new Set<string>()) {
  const ran: string[] = [];
  const kinds: UnitKinds = {
    k: {
      resources: { cpus: 1, memMB: 100, minutes: 1 },
      run(params, { shard }) {
        const name = `${params}[${shard.index}/${shard.count}]`;
        ran.push(name);
        if (fail.has(name)) return Promise.reject(new CgvsniError(`${name} broke`));
        return Promise.resolve();
      },
    },
  };
  return { ran, kinds, fail };
}

async function graphIn(dir: string, units: Unit[]): Promise<Graph> {
  return await writeGraph({ version: 1, name: "t", dir: join(dir, "g"), writes: [dir], units });
}

Deno.test("local executor: each piece once, in order; run again, nothing runs", async () => {
  await withTempDir(async (dir) => {
    const g = await graphIn(dir, [unit("merge", ["work"]), unit("work", [], 3), unit("solo")]);
    assert.deepEqual(await readGraph(g.dir), g);
    const r = recorder();
    const s = await runLocal(g, r.kinds, { log });
    assert.deepEqual(r.ran, ["work[1/3]", "work[2/3]", "work[3/3]", "merge[1/1]", "solo[1/1]"]);
    assert.deepEqual(s.failed, []);
    const again = await runLocal(g, r.kinds, { log });
    assert.equal(r.ran.length, 5, "nothing ran the second time");
    assert.deepEqual(again.reused.sort(), ["merge", "solo", "work"]);
  });
});

Deno.test("local executor: a failed shard is named, blocks what needs it, and reruns alone", async () => {
  await withTempDir(async (dir) => {
    const g = await graphIn(dir, [unit("work", [], 3), unit("merge", ["work"]), unit("solo")]);
    const r = recorder(new Set(["work[2/3]"]));
    const s = await runLocal(g, r.kinds, { log });
    assert.deepEqual(s.failed, [["work[2/3]", "work[2/3] broke"]]);
    assert.deepEqual(s.blocked, ["merge"]);
    assert.ok(r.ran.includes("solo[1/1]"), "units that do not need it still run");
    const st = await unitState(g.dir, g.units[0]);
    assert.deepEqual(st.done, [1, 3]);
    assert.equal(st.failed.get(2), "work[2/3] broke");
    // fixed: the failed shard alone runs, then what waited for it
    r.fail.clear();
    r.ran.length = 0;
    await runLocal(g, r.kinds, { log, only: "work", shard: { index: 2, count: 3 } });
    assert.deepEqual(r.ran, ["work[2/3]"]);
    assert.deepEqual((await unitState(g.dir, g.units[0])).failed.size, 0);
    await runLocal(g, r.kinds, { log });
    assert.deepEqual(r.ran, ["work[2/3]", "merge[1/1]"]);
  });
});

Deno.test("local executor: a unit whose parameters changed runs again; an unknown kind is refused first", async () => {
  await withTempDir(async (dir) => {
    const r = recorder();
    const g = await graphIn(dir, [unit("a", [], undefined, "a")]);
    await runLocal(g, r.kinds, { log });
    assert.ok(await isDone(g.dir, g.units[0]));
    const changed = await graphIn(dir, [unit("a", [], undefined, "a2")]);
    assert.ok(!(await isDone(changed.dir, changed.units[0])), "the old marker does not count");
    await runLocal(changed, r.kinds, { log });
    assert.deepEqual(r.ran, ["a[1/1]", "a2[1/1]"]);
    const odd = await graphIn(dir, [unit("a"), { ...unit("b"), kind: "nope" }]);
    await assert.rejects(runLocal(odd, r.kinds, { log }), /unit b is of kind nope/);
    assert.equal(r.ran.length, 2, "nothing ran before the refusal");
  });
});

Deno.test("local executor: a unit whose outputs are gone runs again; what it made changed, the units after it run again, told to redo", async () => {
  await withTempDir(async (dir) => {
    const ran: string[] = [];
    const content = new Map<string, string>([["a", "a1"], ["b", "b1"], ["c", "c1"], ["d", "d1"]]);
    const out = (id: string) => join(dir, `${id}.out`);
    const kinds: UnitKinds = {
      k: {
        resources: { cpus: 1, memMB: 100, minutes: 1 },
        async run(params, { redo }) {
          ran.push(`${params}${redo ? " (redo)" : ""}`);
          await Deno.writeTextFile(out(params as string), content.get(params as string)!);
        },
        outputs: (params) => [out(params as string)],
      },
    };
    const g = await graphIn(dir, [unit("a"), unit("b", ["a"]), unit("c", ["b"]), unit("d")]);
    await runLocal(g, kinds, { log });
    assert.deepEqual(ran, ["a", "b", "c", "d"]);
    // b's output deleted, and b makes it again the same: b runs, nothing after it does
    await Deno.remove(out("b"));
    const s = await runLocal(g, kinds, { log });
    assert.deepEqual(ran.slice(4), ["b"]);
    assert.deepEqual(s.reused.sort(), ["a", "c", "d"]);
    // a's output deleted and made again differently: b (made from it) runs again, told to redo,
    // and so does c, since b's output changed; d needs none of them
    await Deno.remove(out("a"));
    content.set("a", "a2");
    content.set("b", "b2");
    await runLocal(g, kinds, { log });
    assert.deepEqual(ran.slice(5), ["a", "b (redo)", "c (redo)"]);
    // everything current: nothing runs
    await runLocal(g, kinds, { log });
    assert.equal(ran.length, 8);
  });
});

Deno.test("local executor: a training unit hears SIGTERM from its start, before training begins", async () => {
  await withTempDir(async (dir) => {
    let heard: string | undefined;
    const kinds: UnitKinds = {
      train: {
        resources: { cpus: 1, memMB: 100, minutes: 1 },
        preemptible: true,
        async run() {
          // still loading data: SIGTERM arrives (without a listener it would end this process)
          Deno.kill(Deno.pid, "SIGTERM");
          for (let i = 0; i < 100 && !stopRequested(); i++) {
            await new Promise((r) => setTimeout(r, 10));
          }
          heard = stopRequested();
          throw new Preempted("stopped before the first batch");
        },
      },
    };
    const g = await graphIn(dir, [{ id: "t", kind: "train", after: [], params: {} }]);
    try {
      await assert.rejects(runLocal(g, kinds, { log }), Preempted);
    } finally {
      clearStop();
    }
    assert.equal(heard, "SIGTERM");
    // neither finished nor failed: the requeued job runs it again
    const st = await unitState(g.dir, g.units[0]);
    assert.deepEqual([st.done, st.failed.size], [[], 0]);
  });
});

Deno.test("local executor: a redo survives a failed attempt; a unit asked with other options is told so", async () => {
  await withTempDir(async (dir) => {
    const seen: string[] = [];
    let fail = false, made = "a1";
    const out = join(dir, "a.out");
    const kinds: UnitKinds = {
      k: {
        resources: { cpus: 1, memMB: 100, minutes: 1 },
        async run(params, { redo }) {
          seen.push(`${(params as { id: string }).id}:${redo ?? "-"}`);
          if ((params as { id: string }).id === "a") await Deno.writeTextFile(out, made);
          else if (fail) throw new CgvsniError("killed");
        },
        outputs: (params) => (params as { id: string }).id === "a" ? [out] : [],
      },
    };
    const g = await graphIn(dir, [
      unit("a", [], undefined, { id: "a" }),
      unit("b", ["a"], undefined, { id: "b" }),
    ]);
    await runLocal(g, kinds, { log });
    // a made again differently; b's first redo fails: the next attempt is still a redo
    await Deno.remove(out);
    made = "a2";
    fail = true;
    await runLocal(g, kinds, { log });
    fail = false;
    await runLocal(g, kinds, { log });
    assert.deepEqual(seen, ["a:-", "b:-", "a:-", "b:inputs", "b:inputs"]);
    // the same unit asked with other options runs again, told why
    const other = await graphIn(dir, [
      unit("a", [], undefined, { id: "a" }),
      unit("b", ["a"], undefined, { id: "b", x: 1 }),
    ]);
    await runLocal(other, kinds, { log });
    assert.deepEqual(seen.slice(5), ["b:params"]);
  });
});
