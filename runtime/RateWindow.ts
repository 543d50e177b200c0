/**
 * The sliding window of a rate limit, as numbers: at most `limit` starts in
 * any interval of `perMs`. It remembers the last `limit` start times, and a
 * start may happen once the oldest of them is at least `perMs` old. So
 * `limit` starts may go at once (a burst), and then each further one as soon
 * as the start `limit` places before it leaves the window.
 *
 * Pure: the caller says what time it is. `RateLimiter` keeps one on Effect's
 * clock and queues the fibers waiting for it; the forecast keeps one per
 * limiter on its simulated clock, so both wait exactly as long.
 *
 * @example
 * const window = new RateWindow(2, 1000)
 * window.record(0)
 * window.record(100)
 * window.waitAt(300) // => 700: the start at 0 leaves the window at 1000
 */
export class RateWindow {
  readonly limit: number
  readonly perMs: number
  /** The last `limit` start times, a ring once full: it grows with use, so a huge `limit` costs nothing up front. */
  readonly #starts: Array<number> = []
  /** The ring's oldest entry, where the next start is written once it is full. */
  #oldest = 0

  constructor(limit: number, perMs: number) {
    this.limit = limit
    this.perMs = perMs
  }

  /** How long a start at `now` must wait for the window to have room: 0 when it has. */
  waitAt(now: number): number {
    return this.#starts.length < this.limit ? 0 : Math.max(0, this.#starts[this.#oldest]! + this.perMs - now)
  }

  /** Counts a start at `now`, without checking that the window has room (see `waitAt`). */
  record(now: number): void {
    if (this.#starts.length < this.limit) {
      this.#starts.push(now)
      return
    }
    this.#starts[this.#oldest] = now
    this.#oldest = (this.#oldest + 1) % this.limit
  }
}
