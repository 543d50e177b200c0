/**
 * A step's recent output lines, bounded: the newest `capacity` lines are kept
 * and older ones dropped, so a chatty step cannot grow the dashboard's memory
 * (its full log goes to a file; the pane is for the recent past). Adding is
 * O(1), reading a window is O(window).
 */

/** What a line is, so the pane can tell them apart. */
export type LineKind = "stdout" | "stderr" | "log" | "partial" | "error" | "note"

export interface Line {
  readonly kind: LineKind
  readonly text: string
}

export class Ring {
  readonly capacity: number
  readonly #lines: Array<Line>
  /** Lines ever added; the newest is at `(#added - 1) % capacity`. */
  #added = 0

  constructor(capacity: number) {
    this.capacity = capacity
    this.#lines = []
  }

  /** Lines held (at most `capacity`). */
  get size(): number {
    return Math.min(this.#added, this.capacity)
  }

  /** Lines dropped to stay within `capacity`. */
  get dropped(): number {
    return this.#added - this.size
  }

  push(line: Line): void {
    this.#lines[this.#added % this.capacity] = line
    this.#added++
  }

  /** The newest line, if any. */
  last(): Line | undefined {
    return this.#added === 0 ? undefined : this.#lines[(this.#added - 1) % this.capacity]
  }

  /** Up to `count` lines, oldest first, ending `skip` lines before the newest. */
  window(count: number, skip = 0): Array<Line> {
    const end = Math.max(0, this.size - skip)
    const start = Math.max(0, end - count)
    const first = this.#added - this.size
    const out: Array<Line> = []
    for (let i = start; i < end; i++) out.push(this.#lines[(first + i) % this.capacity]!)
    return out
  }

  clear(): void {
    this.#lines.length = 0
    this.#added = 0
  }
}
