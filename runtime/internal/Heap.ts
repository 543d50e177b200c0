/**
 * A binary heap ordered by `before(a, b)` (true when `a` comes out first):
 * the scheduler's ready queue and the dashboard's ETA simulation share it.
 *
 * Both sifts move a hole rather than swapping pairs: a destructuring swap
 * allocated an array per level, most of the scheduler's garbage.
 */
export class Heap<T> {
  readonly #before: (a: T, b: T) => boolean
  readonly #heap: Array<T> = []

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before
  }

  get size(): number {
    return this.#heap.length
  }

  /** What `pop` would return, left in place. */
  get first(): T | undefined {
    return this.#heap[0]
  }

  push(item: T): void {
    const heap = this.#heap
    let i = heap.length
    heap.push(item)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.#before(item, heap[parent]!)) break
      heap[i] = heap[parent]!
      i = parent
    }
    heap[i] = item
  }

  pop(): T | undefined {
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
        const child = r < n && this.#before(heap[r]!, heap[l]!) ? r : l
        if (!this.#before(heap[child]!, last)) break
        heap[i] = heap[child]!
        i = child
      }
      heap[i] = last
    }
    return top
  }
}
