/**
 * The latest starts on one rate limit, as the forecast sees them
 * (`step:start`): its last `limit` start times, a ring like the limiter's own
 * window, so recording one is O(1).
 */
export class RecentStarts {
  readonly #limit: number
  readonly #times: Array<number> = []
  #oldest = 0

  constructor(limit: number) {
    this.#limit = limit
  }

  push(time: number): void {
    if (this.#times.length < this.#limit) this.#times.push(time)
    else {
      this.#times[this.#oldest] = time
      this.#oldest = (this.#oldest + 1) % this.#limit
    }
  }

  /** The starts relative to `now`, oldest first, for `EtaProgress.recentStarts`. */
  relativeTo(now: number): Array<number> {
    const times = this.#times
    const out = new Array<number>(times.length)
    for (let k = 0; k < times.length; k++) out[k] = times[(this.#oldest + k) % times.length]! - now
    return out
  }
}
