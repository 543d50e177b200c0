/**
 * What to start next. Among ready steps, the one with the longest remaining
 * path to the end of the graph goes first (ties: declaration order): a list
 * schedule with critical-path priority, deterministic and close to the optimal
 * makespan.
 *
 * The decision is a function of the ready set, the ranks and the free slots;
 * `ReadyQueue` keeps the ready set as a binary heap so each decision costs
 * O(log n) even with 100,000 steps.
 */

/** Whether step `a` goes before step `b`. */
const before = (rank: ReadonlyArray<number>, a: number, b: number): boolean =>
  rank[a]! > rank[b]! || (rank[a] === rank[b] && a < b)

/** The ready steps, best first. */
export class ReadyQueue {
  readonly #rank: ReadonlyArray<number>
  readonly #heap: Array<number> = []

  constructor(rank: ReadonlyArray<number>) {
    this.#rank = rank
  }

  get size(): number {
    return this.#heap.length
  }

  push(step: number): void {
    const heap = this.#heap
    let i = heap.push(step) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(this.#rank, heap[i]!, heap[parent]!)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  pop(): number | undefined {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let best = i
        if (l < heap.length && before(this.#rank, heap[l]!, heap[best]!)) best = l
        if (r < heap.length && before(this.#rank, heap[r]!, heap[best]!)) best = r
        if (best === i) break
        ;[heap[i], heap[best]] = [heap[best]!, heap[i]!]
        i = best
      }
    }
    return top
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
export const nextToStart = (ready: Iterable<number>, rank: ReadonlyArray<number>, free: number): Array<number> => {
  const queue = new ReadyQueue(rank)
  for (const step of ready) queue.push(step)
  const chosen: Array<number> = []
  while (chosen.length < free && queue.size > 0) chosen.push(queue.pop()!)
  return chosen
}
