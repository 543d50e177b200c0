/**
 * The ETA of a run in progress, folded from its events: what `eta` needs
 * (which steps ended, which run and since when, which gave their slot back
 * to wait for a rate limit, each limit's recent starts), kept up to date in
 * O(1) per event, so the dashboard and the plain reporter show the same
 * figure from the same stream.
 *
 * Steps with no estimate (a first run with no history and no `estimate`)
 * take the median duration of the latest {@link typicalOf} steps that really
 * ran in this run, once one has: a first run gets an ETA after its first
 * steps end, rather than none until the end.
 *
 * @example
 * const forecast = new Forecast()
 * forecast.begin(runStart)
 * forecast.apply(event) // for each later event
 * forecast.eta(runTimeNow) // => { ms, left, unknown }
 */
import type { Event, EventOf, StepInfo } from "../Event.ts"
import { etaGraphOf, type EtaGraph } from "./EtaGraph.ts"
import { RecentStarts } from "./internal/recentStarts.ts"
import { eta, type Eta } from "./eta.ts"

/** How many of the latest steps' durations stand in for a step with no estimate. */
export const typicalOf = 64

export class Forecast {
  readonly #floorMs: number | undefined
  #graph: EtaGraph | undefined
  #concurrency = 1
  readonly #indexOf = new Map<string, number>()
  #ended: Array<boolean> = []
  /** Started steps not ended, in the order they first started: their current attempt's start (run time). */
  readonly #running = new Map<number, number>()
  /** Steps that gave their slot back to wait for their rate limit, in the order they began waiting. */
  readonly #parked = new Set<number>()
  #recentStarts: Array<RecentStarts> = []
  /** The latest durations of steps that ran (a ring). */
  readonly #ran: Array<number> = []
  #ranNext = 0

  /** `floorMs`: how far past its estimate a running step is still given (see `eta`). */
  constructor(floorMs?: number) {
    this.#floorMs = floorMs
  }

  /**
   * A run starts. Each step is expected to take `estimateOf(step)`: by
   * default the estimate `run:start` announces (the dashboard adds the
   * history's).
   */
  begin(event: EventOf<"run:start">, estimateOf?: (step: StepInfo) => number | undefined): void {
    const graph = etaGraphOf(event, estimateOf)
    this.#graph = graph
    this.#concurrency = event.concurrency
    this.#indexOf.clear()
    event.steps.forEach((s, i) => this.#indexOf.set(s.id, i))
    this.#ended = event.steps.map(() => false)
    this.#running.clear()
    this.#parked.clear()
    this.#recentStarts = (graph.limits?.rateLimits ?? []).map((r) => new RecentStarts(r.limit))
    this.#ran.length = 0
    this.#ranNext = 0
  }

  apply(event: Event): void {
    if (event.type !== "step:start" && event.type !== "step:waiting" && event.type !== "step:end") return
    const i = this.#indexOf.get(event.step)
    if (i === undefined) return
    switch (event.type) {
      case "step:start": {
        this.#running.set(i, event.time)
        this.#parked.delete(i)
        const l = this.#graph?.limits?.rateLimitOf[i] ?? -1
        if (l !== -1) this.#recentStarts[l]!.push(event.time)
        return
      }
      case "step:waiting":
        // Waiting for its rate limit to start an attempt, it gave its slot back; a memoized call's wait keeps it.
        if (event.releases === true) this.#parked.add(i)
        return
      case "step:end":
        this.#ended[i] = true
        this.#running.delete(i)
        this.#parked.delete(i)
        if ((event.status === "succeeded" || event.status === "failed") && event.attempts > 0) this.#record(event.durationMs)
        return
    }
  }

  /** The ETA at run time `now`; undefined before the run starts. */
  eta(now: number): Eta | undefined {
    if (this.#graph === undefined) return undefined
    const running: Array<{ step: number; elapsedMs: number }> = []
    for (const [step, since] of this.#running) if (!this.#parked.has(step)) running.push({ step, elapsedMs: now - since })
    const recentStarts = this.#recentStarts.map((r) => r.relativeTo(now))
    const progress = { ended: this.#ended, running, parked: [...this.#parked], recentStarts }
    return eta(this.#graph, progress, this.#concurrency, this.#floorMs, this.#typicalMs())
  }

  /** Started steps not ended, in the order they started, with when their attempt started (run time). */
  running(): ReadonlyMap<number, number> {
    return this.#running
  }

  #record(ms: number): void {
    if (this.#ran.length < typicalOf) this.#ran.push(ms)
    else this.#ran[this.#ranNext] = ms
    this.#ranNext = (this.#ranNext + 1) % typicalOf
  }

  #typicalMs(): number | undefined {
    if (this.#ran.length === 0) return undefined
    const sorted = [...this.#ran].sort((a, b) => a - b)
    const mid = sorted.length >> 1
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  }
}
