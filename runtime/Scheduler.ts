/**
 * What to start next. Among ready steps, the one with the longest remaining
 * path to the end of the graph goes first (ties: declaration order): a list
 * schedule with critical-path priority, deterministic and close to the optimal
 * makespan.
 *
 * The decision is a function of the ready set, the ranks and the free slots;
 * `ReadyQueue` keeps the ready set as a binary heap so each decision costs
 * O(log n) even with 100,000 steps.
 *
 * A workflow that declares `resources` decides with `ResourcePool.take`
 * (Resources.ts) instead: the same order, each step started only if its
 * demand fits, the best blocked step reserving what it needs.
 */
import { Heap } from "./internal/Heap.ts"

/** Whether step `a` goes before step `b`. */
const before = (rank: ArrayLike<number>, a: number, b: number): boolean =>
  rank[a]! > rank[b]! || (rank[a] === rank[b] && a < b)

/** The ready steps, best first. */
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

/**
 * The steps to start now: the best `free` of `ready` by priority.
 *
 * @example
 * nextToStart([0, 1, 2], [5, 9, 9], 2) // => [1, 2]
 */
export const nextToStart = (ready: Iterable<number>, rank: ArrayLike<number>, free: number): Array<number> => {
  const queue = new ReadyQueue(rank)
  for (const step of ready) queue.push(step)
  const chosen: Array<number> = []
  while (chosen.length < free && queue.size > 0) chosen.push(queue.pop()!)
  return chosen
}
