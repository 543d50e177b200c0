/**
 * The ready steps, best first: the longest remaining path to the end of the
 * graph (`rank`), ties by declaration order. A binary heap, so each decision
 * costs O(log n) even with 100,000 steps.
 */
import { Heap } from "./Heap.ts"

/** Whether step `a` goes before step `b`. */
const before = (rank: ArrayLike<number>, a: number, b: number): boolean =>
  rank[a]! > rank[b]! || (rank[a] === rank[b] && a < b)

export class ReadyQueue extends Heap<number> {
  constructor(rank: ArrayLike<number>) {
    super((a, b) => before(rank, a, b))
  }

  /** Removes and returns every ready step. */
  drain(): Array<number> {
    const all: Array<number> = []
    for (let s = this.pop(); s !== undefined; s = this.pop()) all.push(s)
    return all
  }
}
