/**
 * The linear algebra of the Gaussian model and the linear head: the blocked cross product adds each entry's row products
 * in row order, so it equals the plain row-by-row sum bit for bit.
 */
import assert from "node:assert/strict";
import { Rng } from "../../../lib/core/rng.ts";
import { crossProduct, type Mat } from "../../../lib/core/linalg.ts";

/** AᵀA / scale, one row at a time: what the blocked version must equal exactly. */
function rowByRow(a: Mat, scale: number): Float64Array {
  const { rows: n, cols: d, data: x } = a, c = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      if (x[i * d + j] === 0) continue;
      for (let k = j; k < d; k++) c[j * d + k] += x[i * d + j] * x[i * d + k];
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) c[k * d + j] = c[j * d + k] /= scale;
  }
  return c;
}

Deno.test("linalg: the blocked cross product equals the row-by-row sum bit for bit", () => {
  const rng = new Rng(11);
  // row counts around the block of four, values of mixed magnitudes, some exact zeros
  for (const [n, d] of [[1, 3], [4, 5], [7, 6], [33, 17], [130, 40]]) {
    const data = Float64Array.from({ length: n * d }, () => {
      const u = rng.next();
      return u < 0.15 ? 0 : (rng.next() - 0.5) * 10 ** Math.floor(u * 8 - 3);
    });
    const a = { rows: n, cols: d, data };
    for (const scale of [1, n]) {
      const got = crossProduct(a, scale).data, want = rowByRow(a, scale);
      for (let i = 0; i < want.length; i++) {
        assert.ok(Object.is(got[i], want[i]), `${n}x${d} scale ${scale} entry ${i}`);
      }
    }
  }
});
