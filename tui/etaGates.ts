/**
 * The rate limits in the ETA's simulation (`eta.ts`): each limiter's gate, as
 * the engine keeps it (`RateLimiter.take` and `RunState`'s resume queue), on
 * the simulation's clock, and the timers that clock runs on.
 */
import { Heap } from "../runtime/internal/Heap.ts"
import { RateLimiter } from "../runtime/RateLimiter.ts"
import type { EtaLimits } from "./eta.ts"

/**
 * The latest starts on one rate limit, as the dashboard sees them
 * (`step:start`): its last `limit` start times, a ring like the limiter's own,
 * so recording one is O(1).
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

/** A limiter in the simulation: the engine's window, and the steps queued at its gate (see `RateLimiter.take`). */
interface Gate {
  readonly limiter: RateLimiter
  readonly queue: Array<number>
  head: number
  /** A step is at the gate: sleeping until the window has room, or asking for its slot back. */
  busy: boolean
}

/** The rate limits' gates on the simulated clock `sim`; a limiter's wake-up is a timer with step `-1 - l`. */
export const makeGates = (
  limits: EtaLimits,
  recentStarts: ReadonlyArray<ReadonlyArray<number>> | undefined,
  parked: ReadonlyArray<number>,
  sim: { now: number },
  timers: TimerHeap
) => {
  const gates: Array<Gate> = limits.rateLimits.map(({ name, limit, perMs }, l) => {
    const limiter = new RateLimiter(name, limit, perMs)
    const times = recentStarts?.[l] ?? []
    // Starts older than the window never hold anyone back.
    for (let k = Math.max(0, times.length - limit); k < times.length; k++) {
      if (times[k]! > -perMs) record(limiter, times[k]!)
    }
    return { limiter, queue: [], head: 0, busy: false }
  })
  for (const step of parked) gates[limits.rateLimitOf[step]!]?.queue.push(step)
  /** Steps whose turn came, asking for a slot back, in the order they asked. */
  const asking: Array<number> = []
  let askingHead = 0
  /** The next waiter at the gate of `l`, if it is free, takes its turn: now, or a timer for when the window has room. */
  const next = (l: number) => {
    const gate = gates[l]!
    if (gate.busy || gate.head === gate.queue.length) return
    gate.busy = true
    const wait = gate.limiter.waitAt(sim.now)
    if (wait > roundingMs) timers.push(sim.now + wait, -1 - l)
    else asking.push(gate.queue[gate.head++]!)
  }
  return {
    /** The queued steps take their turns, limiter by limiter. */
    begin: () => gates.forEach((_, l) => next(l)),
    /** Whether a step on `l` not queued before starts now: nobody is queued and the window has room. */
    startsNow: (l: number): boolean => {
      const gate = gates[l]!
      if (gate.busy || gate.head < gate.queue.length || gate.limiter.waitAt(sim.now) > roundingMs) return false
      record(gate.limiter, sim.now)
      return true
    },
    /** A step on `l` queues, giving its slot back. */
    queue: (l: number, step: number) => {
      gates[l]!.queue.push(step)
      next(l)
    },
    /** A resumed step on `l` counts its start; the gate goes to the next waiter. */
    started: (l: number) => {
      const gate = gates[l]!
      record(gate.limiter, sim.now)
      gate.busy = false
      next(l)
    },
    /** The head of `l` wakes: the window has room (else it sleeps again). */
    wake: (l: number) => {
      const gate = gates[l]!
      const wait = gate.limiter.waitAt(sim.now)
      if (wait > roundingMs) timers.push(sim.now + wait, -1 - l)
      else asking.push(gate.queue[gate.head++]!)
    },
    asking: (): boolean => askingHead < asking.length,
    /** Hands up to `free` slots to the steps asking, first come first served. */
    resume: (free: number): Array<number> => {
      const resumed: Array<number> = []
      while (resumed.length < free && askingHead < asking.length) resumed.push(asking[askingHead++]!)
      return resumed
    }
  }
}

/** Below this (ms), a wait is floating-point noise from times relative to a fractional now. */
export const roundingMs = 1e-6

/**
 * Counts a start at `t` in the engine's own window (moved on by any rounding
 * left, so the window has room, as the engine would have waited).
 */
const record = (limiter: RateLimiter, t: number): void => {
  let at = t + limiter.waitAt(t)
  if (limiter.waitAt(at) > 0) at += limiter.waitAt(at) + roundingMs
  limiter.record(at)
}

interface Timer {
  readonly time: number
  readonly seq: number
  /** The step that ends, or `-1 - l` for rate limit `l`'s waiter waking. */
  readonly step: number
}

/** Timers by time, then by the order they were set: the order the engine's clock wakes sleepers. */
export class TimerHeap {
  readonly #heap = new Heap<Timer>(earlier)
  #seq = 0

  push(time: number, step: number): void {
    this.#heap.push({ time, seq: this.#seq++, step })
  }

  pop(): Timer | undefined {
    return this.#heap.pop()
  }
}

const earlier = (a: Timer, b: Timer): boolean => a.time < b.time || (a.time === b.time && a.seq < b.seq)
