/**
 * oneDNN single-precision GEMM.
 *
 * @module
 */

import { check, dataPtr, L } from "./_dnnl.ts";

/**
 * Row-major GEMM: C = op(A)·op(B) (+ C when `accumulate`), op = transpose when asked.
 * A is m×k (k×m if transA), B is k×n (n×k if transB), C is m×n.
 */
export function sgemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  b: Float32Array,
  c: Float32Array,
  accumulate = false,
): void {
  const T = 84, N = 78; // 'T', 'N'
  const lda = transA ? m : k, ldb = transB ? k : n;
  const pa = dataPtr(a), pb = dataPtr(b), pc = dataPtr(c);
  check(
    L().dnnl_sgemm(
      transA ? T : N,
      transB ? T : N,
      BigInt(m),
      BigInt(n),
      BigInt(k),
      1,
      (pa.copy ?? a) as Float32Array,
      BigInt(lda),
      (pb.copy ?? b) as Float32Array,
      BigInt(ldb),
      accumulate ? 1 : 0,
      (pc.copy ?? c) as Float32Array,
      BigInt(n),
    ),
    "sgemm",
  );
  if (pc.copy) c.set(pc.copy as Float32Array);
}
