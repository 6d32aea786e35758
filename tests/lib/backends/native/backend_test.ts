/**
 * The native backend against tfjs's reference `cpu` backend: every kernel it replaces, forward
 * and gradients, on shapes that exercise strides, padding and transposes.
 */
import assert from "node:assert/strict";
import { tf } from "../../../../lib/core/deps.ts";
import { initBackend } from "../../../../lib/backends/select.ts";
import {
  batchNormTrain,
  convBn,
  convBnChain,
  convBnInference,
  relu,
} from "../../../../lib/backends/layers.ts";
import { Adam, SgdMomentum } from "../../../../lib/backends/optim.ts";
import { nativeFallbacks } from "../../../../lib/backends/native/backend.ts";
import { ENet, initialValues } from "../../../../lib/map/enet.ts";
import { Rng } from "../../../../lib/core/rng.ts";
import { TINY } from "../../../_helpers.ts";

const native = await initBackend("native").then((b) => b.name === "native").catch(() => false);
const opts = { ignore: !native, sanitizeResources: false, sanitizeOps: false };

function rand(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => r.normal());
}

/** Runs `f` on both backends and returns its arrays from each. */
async function both(f: () => tf.Tensor[]): Promise<[Float32Array[], Float32Array[]]> {
  const out: Float32Array[][] = [];
  for (const b of ["cpu", "native"]) {
    await tf.setBackend(b);
    out.push(
      tf.tidy(f).map((t) => {
        const d = t.dataSync() as Float32Array;
        t.dispose();
        return d.slice();
      }),
    );
  }
  return out as [Float32Array[], Float32Array[]];
}

function close(a: Float32Array[], b: Float32Array[], tol = 1e-4) {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => {
    let scale = 1;
    for (const v of x) scale = Math.max(scale, Math.abs(v));
    for (let j = 0; j < x.length; j++) {
      assert.ok(
        Math.abs(x[j] - b[i][j]) <= tol * scale,
        `output ${i}[${j}]: cpu ${x[j]} native ${b[i][j]}`,
      );
    }
  });
}

for (
  const [stride, pad, dil] of [[1, "valid", 1], [2, "valid", 1], [1, "same", 1], [2, "same", 1], [
    1,
    "valid",
    2,
  ]] as const
) {
  Deno.test(
    `native: conv2d and its gradients (stride ${stride}, ${pad}, dilation ${dil})`,
    opts,
    async () => {
      const xs = rand(2 * 11 * 13 * 5, 1), ws = rand(3 * 3 * 5 * 7, 2);
      close(
        ...await both(() => {
          const x = tf.tensor4d(xs, [2, 11, 13, 5]), w = tf.tensor4d(ws, [3, 3, 5, 7]);
          const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, stride, pad, "NHWC", dil);
          const y = f(x, w);
          if (dil !== 1) return [y];
          const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf.sum(tf.square(f(a as tf.Tensor4D, b as tf.Tensor4D)))
          )([x, w]);
          return [y, dx, dw];
        }),
      );
    },
  );
}

Deno.test(
  "native: a convolution fused with its bias and activation (linear, relu, relu6)",
  opts,
  async () => {
    const xs = rand(2 * 9 * 10 * 4, 5), ws = rand(1 * 1 * 4 * 6, 6), w3 = rand(3 * 3 * 4 * 6, 7);
    const bs = rand(6, 8).map((v) => 3 * v);
    const before = nativeFallbacks().FusedConv2D ?? 0;
    const [cpu, nat] = await both(() => {
      const x = tf.tensor4d(xs, [2, 9, 10, 4]).mul(4) as tf.Tensor4D, bias = tf.tensor1d(bs);
      const out: tf.Tensor[] = [];
      for (const activation of ["linear", "relu", "relu6"] as const) {
        for (const [w, stride, pad] of [[ws, 1, "valid"], [w3, 2, "same"]] as const) {
          const filter = tf.tensor4d(w, [
            w.length === ws.length ? 1 : 3,
            w.length === ws.length ? 1 : 3,
            4,
            6,
          ]);
          out.push(tf.fused.conv2d({ x, filter, strides: stride, pad, bias, activation }));
        }
      }
      // without a bias
      out.push(
        tf.fused.conv2d({
          x,
          filter: tf.tensor4d(ws, [1, 1, 4, 6]),
          strides: 1,
          pad: "valid",
          activation: "relu6",
        }),
      );
      return out;
    });
    close(cpu, nat);
    // each of them ran in oneDNN: none went back to the cpu kernel
    assert.equal(nativeFallbacks().FusedConv2D ?? 0, before);
    // a bias broadcast along the width (not per channel), and prelu, are the cpu kernel's
    const [cpu2, nat2] = await both(() => {
      const x = tf.tensor4d(xs.subarray(0, 4 * 3 * 4), [1, 4, 3, 4]);
      const filter = tf.tensor4d(ws.subarray(0, 4 * 3), [1, 1, 4, 3]);
      const alpha = tf.scalar(0.2);
      return [
        tf.fused.conv2d({
          x,
          filter,
          strides: 1,
          pad: "valid",
          bias: tf.tensor2d([1, 2, 3], [3, 1]),
        }),
        tf.fused.conv2d({
          x,
          filter,
          strides: 1,
          pad: "valid",
          activation: "prelu",
          preluActivationWeights: alpha,
        }),
      ];
    });
    close(cpu2, nat2);
    assert.equal(nativeFallbacks().FusedConv2D, before + 2);
    // the activations clip: relu6 outputs lie in [0, 6] and some reach each end
    const r6 = nat[4];
    assert.ok(r6.every((v) => v >= 0 && v <= 6) && r6.includes(0) && r6.includes(6));
  },
);

Deno.test("native: matMul with transposes and batches", opts, async () => {
  const a = rand(3 * 4 * 5, 3), b = rand(3 * 5 * 6, 4);
  close(
    ...await both(() => [
      tf.matMul(tf.tensor2d(a.subarray(0, 20), [4, 5]), tf.tensor2d(b.subarray(0, 30), [5, 6])),
      tf.matMul(
        tf.tensor2d(a.subarray(0, 20), [5, 4]),
        tf.tensor2d(b.subarray(0, 30), [6, 5]),
        true,
        true,
      ),
      tf.matMul(tf.tensor3d(a, [3, 4, 5]), tf.tensor3d(b, [3, 5, 6])),
      tf.matMul(tf.tensor3d(a, [3, 4, 5]), tf.tensor2d(b.subarray(0, 30), [6, 5]), false, true),
    ]),
  );
});

Deno.test("native: relu, max-pool, concat, split and their gradients", opts, async () => {
  const xs = rand(2 * 9 * 9 * 4, 5);
  close(
    ...await both(() => {
      const x = tf.tensor4d(xs, [2, 9, 9, 4]);
      const f = (a: tf.Tensor) => {
        const p = tf.maxPool(relu(a as tf.Tensor4D), 3, 2, "valid");
        const c = tf.concat([p, tf.mul(p, 2)], 3);
        const [s1, s2] = tf.split(c, [3, 5], 3);
        return tf.add(tf.sum(tf.square(s1)), tf.sum(s2));
      };
      return [tf.maxPool(x, 3, 2, "valid"), tf.relu(x), tf.grad(f)(x)];
    }),
  );
});

Deno.test("native: batch norm with batch statistics, and its gradients", opts, async () => {
  const xs = rand(3 * 5 * 6 * 4, 6), gs = rand(4, 7), bs = rand(4, 8);
  close(
    ...await both(() => {
      const x = tf.tensor4d(xs, [3, 5, 6, 4]), g = tf.tensor1d(gs), b = tf.tensor1d(bs);
      const seen: tf.Tensor[] = [];
      const f = (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) =>
        tf.sum(
          tf.mul(
            batchNormTrain(a as tf.Tensor4D, c as tf.Tensor1D, d as tf.Tensor1D, 1e-5, (m, v) =>
              seen.push(m, v)),
            tf.range(0, 360).reshape([3, 5, 6, 4]),
          ),
        );
      const grads = tf.grads(f)([x, g, b]);
      return [...grads, ...seen.slice(0, 2)];
    }),
  );
});

Deno.test(
  "native: fused conv + BN + ReLU equals its composition, gradients included",
  opts,
  async () => {
    const xs = rand(2 * 10 * 10 * 3, 9),
      ws = rand(3 * 3 * 3 * 4, 10),
      gs = rand(4, 11),
      bs = rand(4, 12);
    // split: the input given as two tensors of 1 + 2 channels (concatenated, never built)
    for (const [stride, withRelu, split] of [[1, true, 0], [2, false, 0], [2, true, 1]] as const) {
      const o = { stride, eps: 1e-5, relu: withRelu };
      const block = (x: tf.Tensor4D, w: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => {
        if (!split) return convBn(x, w, g, b, o);
        const [x1, x2] = tf.split(x, [split, 3 - split], 3) as tf.Tensor4D[];
        return convBn(x1, w, g, b, o, x2);
      };
      const run = () => {
        const x = tf.tensor4d(xs, [2, 10, 10, 3]), w = tf.tensor4d(ws, [3, 3, 3, 4]);
        const g = tf.tensor1d(gs), b = tf.tensor1d(bs);
        const f = (...t: tf.Tensor[]) =>
          tf.sum(tf.square(block(...(t as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D]))));
        return [block(x, w, g, b), ...tf.grads(f)([x, w, g, b]), convBn(x, w, g, b, o)];
      };
      const [cpu, nat] = await both(run);
      close(cpu, nat, 2e-4);
      close([nat[0]], [nat[5]], 2e-4); // the split block equals the block on the concatenation
    }
  },
);

for (const stem of ["none", "trained", "fixed"] as const) {
  Deno.test(
    `native: a chain of conv + BN blocks recomputing its inner outputs equals the blocks one by one (stem: ${stem})`,
    opts,
    async () => {
      const xs = rand(2 * 14 * 13 * 3, 31), stemW = rand(3 * 3 * 3 * 3, 30);
      const shapes = [[3, 3, 3, 5], [3, 3, 5, 4], [3, 3, 4, 6]];
      const ws = shapes.map((s, i) => rand(s.reduce((a, b) => a * b), 32 + i));
      const gs = shapes.map((s, i) => rand(s[3], 40 + i)),
        bs = shapes.map((s, i) => rand(s[3], 50 + i));
      const relus = [false, true, true];
      const convs = shapes.length + (stem === "none" ? 0 : 1);
      // a fixed, non-uniform weighting of the chain's output, so every gradient is non-trivial
      const weights = tf.tidy(() =>
        tf.linspace(-1, 1, 2 * (14 - 2 * convs) * (13 - 2 * convs) * 6)
      );
      const run = (chained: boolean) => () => {
        const image = tf.tensor4d(xs, [2, 14, 13, 3]);
        const inputs = [
          stem === "none" ? image : tf.tensor4d(stemW, [3, 3, 3, 3]),
          ...shapes.flatMap((s, i) => [
            tf.tensor4d(ws[i], s as [number, number, number, number]),
            tf.tensor1d(gs[i]),
            tf.tensor1d(bs[i]),
          ]),
        ];
        const moments: tf.Tensor[] = [];
        const f = (...t: tf.Tensor[]) => {
          const layers = relus.map((relu, i) => ({
            filter: t[1 + 3 * i] as tf.Tensor4D,
            gamma: t[2 + 3 * i] as tf.Tensor1D,
            beta: t[3 + 3 * i] as tf.Tensor1D,
            relu,
            onMoments: (m: tf.Tensor1D, v: tf.Tensor1D) => moments.push(m, v),
          }));
          const score = (h: tf.Tensor) => tf.sum(tf.mul(tf.reshape(h, [-1]), weights));
          const filter = t[0] as tf.Tensor4D;
          if (chained) {
            return score(
              stem === "none"
                ? convBnChain(filter, layers, 1e-5)
                : convBnChain(image, layers, 1e-5, {
                  stem: { filter, needGrad: stem === "trained" },
                }),
            );
          }
          let h = stem === "none" ? filter : tf.conv2d(image, filter, 1, "valid");
          for (const l of layers) {
            const o = { stride: 1, eps: 1e-5, relu: l.relu, onMoments: l.onMoments };
            h = convBn(h, l.filter, l.gamma, l.beta, o);
          }
          return score(h);
        };
        const before = tf.memory().numTensors;
        const grads = tf.grads(f)(inputs);
        const out = [...grads, ...moments];
        assert.equal(
          tf.memory().numTensors,
          before + grads.length + moments.length,
          "tensors leaked",
        );
        assert.equal(moments.length, 6, "one mean and variance per block");
        // a fixed stem gets no gradient (zeros); the rest must agree
        return stem === "fixed" ? out.slice(1) : out;
      };
      await tf.setBackend("native");
      const [a, b] = [tf.tidy(run(true)), tf.tidy(run(false))];
      const arrays = (ts: tf.Tensor[]) => ts.map((t) => t.dataSync() as Float32Array);
      assert.equal(a.length, stem === "fixed" ? 15 : 16);
      close(arrays(a), arrays(b), 1e-4);
      tf.dispose([...a, ...b, weights]);
    },
  );
}

Deno.test(
  "native: fused inference block (BN folded into the convolution, ReLU post-op) equals its composition",
  opts,
  async () => {
    const xs = rand(2 * 11 * 9 * 5, 21), ws = rand(3 * 3 * 5 * 6, 22);
    const [g, b, m] = [rand(6, 23), rand(6, 24), rand(6, 25)];
    const v = Float32Array.from(rand(6, 26), (x) => 0.5 + x * x);
    // 5 input channels as one tensor, or as 2 + 3 (concatenated by the kernel, never built)
    for (const [stride, withRelu, split] of [[1, true, 0], [2, false, 0], [2, true, 2]] as const) {
      close(
        ...await both(() => {
          const bn = {
            gamma: tf.tensor1d(g),
            beta: tf.tensor1d(b),
            mean: tf.tensor1d(m),
            variance: tf.tensor1d(v),
          };
          const x = tf.tensor4d(xs, [2, 11, 9, 5]), w = tf.tensor4d(ws, [3, 3, 5, 6]);
          const o = { stride, eps: 1e-5, relu: withRelu };
          if (!split) return [convBnInference(x, w, bn, o)];
          const [x1, x2] = tf.split(x, [split, 5 - split], 3) as tf.Tensor4D[];
          return [convBnInference(x1, w, bn, o, x2)];
        }),
      );
    }
  },
);

Deno.test(
  "native: element-wise kernels, sums, slices and pads equal the reference backend bit for bit",
  opts,
  async () => {
    // large enough for pooled buffers (>= 1 MiB), shapes as the flow and the ENet trunk use them
    const xs = rand(64 * 4096, 20), bs = rand(4096, 21), cs = rand(64, 22);
    const [cpu, nat] = await both(() => {
      const x = tf.tensor2d(xs, [64, 4096]), b = tf.tensor1d(bs), c = tf.tensor2d(cs, [64, 1]);
      const w = tf.reshape(x, [8, 8, 64, 64]);
      return [
        tf.add(x, b),
        tf.sub(x, c),
        tf.mul(x, x),
        tf.div(x, tf.add(tf.abs(b), 1)),
        tf.sum(x, 0),
        tf.sum(x, 1, true),
        tf.sum(w, [1, 2]),
        tf.sum(w, [0, 2]), // not adjacent: tfjs's kernel
        tf.step(x, 0.1),
        tf.slice(w, [0, 0, 32, 0], [8, 8, 32, 64]),
        tf.pad(tf.slice(w, [1, 0, 0, 0], [7, 8, 64, 64]), [[1, 0], [0, 0], [0, 0], [0, 2]], 0.5),
        tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(tf.add(a, b)), c)))(x),
      ];
    });
    cpu.forEach((want, i) =>
      assert.ok(want.every((v, j) => Object.is(v, nat[i][j])), `output ${i} differs`)
    );
  },
);

Deno.test(
  "native: a slice of a pooled tensor keeps its values after the source's buffer is reused",
  opts,
  async () => {
    // tfjs's slice/unstack return views of their input; a recycled buffer must not change them
    await tf.setBackend("native");
    const src = tf.relu(tf.fill([4, 1 << 18], 1)); // pooled output
    const parts = tf.unstack(src);
    const row = tf.slice(src, [2, 0], [1, 1 << 18]);
    src.dispose();
    const other = tf.relu(tf.fill([4, 1 << 18], 7)); // takes the freed buffer
    assert.equal(parts[0].dataSync()[0], 1);
    assert.equal(row.dataSync()[(1 << 18) - 1], 1);
    parts.forEach((p) => p.dispose());
    row.dispose();
    assert.equal(other.dataSync()[0], 7, "disposing a view freed its source's buffer");
    other.dispose();
  },
);

Deno.test("native: fused SGD and Adam updates equal the tensor formulas", opts, async () => {
  const p0 = rand(300_000, 13), g0 = rand(300_000, 14);
  close(
    ...await both(() => {
      const p = tf.variable(tf.tensor1d(p0)), q = tf.variable(tf.tensor1d(p0));
      const sgd = new SgdMomentum(new Map([["p", p]]), 0.9), adam = new Adam(new Map([["q", q]]));
      for (let i = 0; i < 3; i++) {
        sgd.step(new Map([["p", tf.tensor1d(g0)]]), 0.01);
        adam.step(new Map([["q", tf.mul(tf.tensor1d(g0), i + 1)]]), 0.01);
      }
      const out = [p.clone(), q.clone()];
      sgd.dispose(), adam.dispose(), p.dispose(), q.dispose();
      return out;
    }),
    1e-5,
  );
});

for (const trainSrm of [false, true]) {
  Deno.test(
    `native: a whole ENet training step matches the reference backend (SRM ${
      trainSrm ? "trained" : "fixed"
    })`,
    opts,
    async () => {
      const cfg = { ...TINY, trainSrm };
      const values = initialValues(cfg, 4);
      const xs = rand(2 * cfg.crop * cfg.crop * 3, 15);
      close(
        ...await both(() => {
          const net = new ENet(cfg, values);
          const x = tf.tensor4d(xs, [2, cfg.crop, cfg.crop, 3]);
          const y = tf.oneHot(tf.tensor1d([0, 1], "int32"), 2);
          const vars = [...net.trainable().values()];
          assert.equal(vars.some((v) => v.name.includes("b2.srm")), trainSrm);
          const { value, grads } = tf.variableGrads(
            () => tf.losses.softmaxCrossEntropy(y, net.forward(x, true, 3).logits) as tf.Scalar,
            vars,
          );
          // BN betas that feed straight into another BN have a true gradient of zero; skip their noise
          const out = [
            value,
            ...vars.filter((v) => !/b[12]\.bn1\.beta/.test(v.name)).map((v) => grads[v.name]),
            net.forward(x, false).logits,
          ];
          net.dispose();
          return out;
        }),
        2e-4,
      );
    },
  );
}

Deno.test("native: no tensors leak from a training step", opts, async () => {
  await tf.setBackend("native");
  const net = new ENet(TINY, initialValues(TINY, 5));
  const x = tf.tensor4d(rand(2 * TINY.crop * TINY.crop * 3, 16), [2, TINY.crop, TINY.crop, 3]);
  const step = () =>
    tf.tidy(() => {
      tf.variableGrads(() => tf.sum(net.forward(x, true, 1).logits) as tf.Scalar, [
        ...net.trainable().values(),
      ]);
    });
  step();
  const before = tf.memory().numTensors;
  step();
  assert.equal(tf.memory().numTensors, before);
  net.dispose();
  x.dispose();
});

Deno.test(
  "native: in-place optimiser updates never change a caller's array or a clone",
  opts,
  async () => {
    await tf.setBackend("native");
    const init = new Float32Array(300_000).fill(1);
    const p = tf.variable(tf.tensor1d(init));
    const snapshot = p.clone();
    const opt = new SgdMomentum(new Map([["p", p]]), 0.9);
    opt.step(new Map([["p", tf.fill([300_000], 2)]]), 0.5);
    opt.step(new Map([["p", tf.fill([300_000], 2)]]), 0.5);
    assert.equal(init[0], 1, "the array given to tf.tensor was written");
    assert.equal(snapshot.dataSync()[0], 1, "a clone taken before the step changed");
    assert.ok(Math.abs(p.dataSync()[0] - (1 - 1 - 0.5 * (0.9 * 2 + 2))) < 1e-6);
    opt.dispose();
    tf.dispose([p, snapshot]);
  },
);

Deno.test(
  "native: oneDNN stays loaded when the runtime that opened it ends (no crash in OpenMP threads)",
  { ...opts, ignore: !native || Deno.build.os !== "linux" },
  async () => {
    // `deno test` closes a module's dlopen handles when the module's runtime ends; unloading
    // oneDNN then left OpenMP's sleeping threads returning into unmapped code (SIGSEGV later).
    const dir = new URL("../../../fixtures/unload/", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      // --allow-all: Deno lets only that read /proc/self/maps.
      args: ["test", "-q", "--allow-all", "first.ts", "second.ts"],
      cwd: dir,
      env: { NO_COLOR: "1", OMP_WAIT_POLICY: "passive" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text.slice(-2000));
  },
);
