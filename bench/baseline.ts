/**
 * The floor the step benchmark compares weft against: the least a scheduler
 * can do and still be correct. Each step's function runs once every step it
 * waits for has resolved, at most `concurrency` at a time, its result awaited
 * like weft awaits a step's. No events, no statuses, no cancellation.
 */
import type { Graph } from "./graph.ts"

export const runMinimal = (graph: Graph, concurrency: number, fn: (step: number) => unknown): Promise<void> =>
  new Promise<void>((resolve, reject) => {
    const n = graph.deps.length
    const waiting = Int32Array.from(graph.deps, (ds) => ds.length)
    const ready: Array<number> = []
    let head = 0
    let running = 0
    let done = 0
    for (let i = 0; i < n; i++) if (waiting[i] === 0) ready.push(i)
    const finish = (i: number) => {
      running--
      done++
      for (const d of graph.dependents[i]!) if (--waiting[d]! === 0) ready.push(d)
      if (done === n) resolve()
      else pump()
    }
    const pump = () => {
      while (running < concurrency && head < ready.length) {
        const i = ready[head++]!
        running++
        Promise.resolve(i).then(fn).then(() => finish(i), reject)
      }
    }
    if (n === 0) resolve()
    else pump()
  })
