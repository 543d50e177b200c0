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
const before = (rank: ArrayLike<number>, a: number, b: number): boolean =>
  rank[a]! > rank[b]! || (rank[a] === rank[b] && a < b)

/** The ready steps, best first. */
export class ReadyQueue {
  readonly #rank: ArrayLike<number>
  readonly #heap: Array<number> = []

  constructor(rank: ArrayLike<number>) {
    this.#rank = rank
  }

  get size(): number {
    return this.#heap.length
  }

  // Both sifts move a hole rather than swapping pairs: a destructuring swap
  // allocated an array per level, most of the scheduler's garbage.
  push(step: number): void {
    const heap = this.#heap
    let i = heap.length
    heap.push(step)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(this.#rank, step, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = step
  }

  pop(): number | undefined {
    const heap = this.#heap
    const top = heap[0]
    const last = heap.pop()
    if (heap.length > 0 && last !== undefined) {
      const n = heap.length
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        const child = r < n && before(this.#rank, heap[r]!, heap[l]!) ? r : l
        if (!before(this.#rank, heap[child]!, last)) break
        heap[i] = heap[child]!
        i = child
      }
      heap[i] = last
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
export const nextToStart = (ready: Iterable<number>, rank: ArrayLike<number>, free: number): Array<number> => {
  const queue = new ReadyQueue(rank)
  for (const step of ready) queue.push(step)
  const chosen: Array<number> = []
  while (chosen.length < free && queue.size > 0) chosen.push(queue.pop()!)
  return chosen
}
