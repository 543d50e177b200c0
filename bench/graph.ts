/**
 * The random step graphs the benchmarks run: reproducible from a seed, so
 * every run (and every child process) measures the same graph.
 */

/** A step graph by index: `deps[i]` are earlier steps that step `i` waits for. */
export interface Graph {
  readonly deps: ReadonlyArray<ReadonlyArray<number>>
  readonly dependents: ReadonlyArray<ReadonlyArray<number>>
}

/** mulberry32: a tiny, fast, seedable PRNG; returns floats in [0, 1). */
export const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A random DAG of `n` steps: each step waits for 0–3 distinct earlier steps,
 * chosen uniformly (so the graph is wide, with short chains, like a build).
 */
export const randomDag = (n: number, seed = 42): Graph => {
  const random = prng(seed)
  const deps: Array<Array<number>> = []
  const dependents: Array<Array<number>> = []
  for (let i = 0; i < n; i++) {
    const want = Math.min(i, Math.floor(random() * 4))
    const ds: Array<number> = []
    while (ds.length < want) {
      const d = Math.floor(random() * i)
      if (!ds.includes(d)) ds.push(d)
    }
    deps.push(ds)
    dependents.push([])
    for (const d of ds) dependents[d]!.push(i)
  }
  return { deps, dependents }
}
