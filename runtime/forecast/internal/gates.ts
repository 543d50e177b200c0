/**
 * The rate limits in the forecast's simulation (`../eta.ts`): each
 * limiter's gate as the engine keeps it (`RateLimiter.take`: one waiter at a
 * time watches the window, the rest queue first in, first out), on the
 * simulation's clock, and the timers that clock runs on. When a waiter's turn
 * comes it asks the scheduler for its slot back (`Scheduler.unpark`), as the
 * engine's step does.
 */
import { Heap } from "../../internal/Heap.ts"
import { RateWindow } from "../../RateWindow.ts"
import type { EtaLimits } from "../EtaGraph.ts"

/** A limiter in the simulation: its window, and the steps queued at its gate. */
interface Gate {
  readonly window: RateWindow
  readonly queue: Array<number>
  head: number
  /** A step is at the gate: sleeping until the window has room, or asking for its slot back. */
  busy: boolean
}

/**
 * The rate limits' gates on the simulated clock `sim`; a limiter's wake-up is
 * a timer with step `-1 - l`. `turn(step)` is called when a queued step's
 * turn comes: it asks for a slot to start in.
 */
export const makeGates = (
  limits: EtaLimits,
  recentStarts: ReadonlyArray<ReadonlyArray<number>> | undefined,
  parked: ReadonlyArray<number>,
  sim: { now: number },
  timers: TimerHeap,
  turn: (step: number) => void
) => {
  const gates: Array<Gate> = limits.rateLimits.map(({ limit, perMs }, l) => {
    const window = new RateWindow(limit, perMs)
    const times = recentStarts?.[l] ?? []
    // Starts older than the window never hold anyone back.
    for (let k = Math.max(0, times.length - limit); k < times.length; k++) {
      if (times[k]! > -perMs) record(window, times[k]!)
    }
    return { window, queue: [], head: 0, busy: false }
  })
  for (const step of parked) gates[limits.rateLimitOf[step]!]?.queue.push(step)
  /** The next waiter at the gate of `l`, if it is free, takes its turn: now, or a timer for when the window has room. */
  const next = (l: number) => {
    const gate = gates[l]!
    if (gate.busy || gate.head === gate.queue.length) return
    gate.busy = true
    const wait = gate.window.waitAt(sim.now)
    if (wait > roundingMs) timers.push(sim.now + wait, -1 - l)
    else turn(gate.queue[gate.head++]!)
  }
  return {
    /** The queued steps take their turns, limiter by limiter. */
    begin: () => gates.forEach((_, l) => next(l)),
    /** Whether a step on `l` not queued before starts now: nobody is queued and the window has room. */
    startsNow: (l: number): boolean => {
      const gate = gates[l]!
      if (gate.busy || gate.head < gate.queue.length || gate.window.waitAt(sim.now) > roundingMs) return false
      record(gate.window, sim.now)
      return true
    },
    /** A step on `l` queues (it gave its slot back). */
    queue: (l: number, step: number) => {
      gates[l]!.queue.push(step)
      next(l)
    },
    /** A resumed step on `l` counts its start; the gate goes to the next waiter. */
    started: (l: number) => {
      const gate = gates[l]!
      record(gate.window, sim.now)
      gate.busy = false
      next(l)
    },
    /** The head of `l` wakes: the window has room (else it sleeps again). */
    wake: (l: number) => {
      const gate = gates[l]!
      const wait = gate.window.waitAt(sim.now)
      if (wait > roundingMs) timers.push(sim.now + wait, -1 - l)
      else turn(gate.queue[gate.head++]!)
    }
  }
}

/** Below this (ms), a wait is floating-point noise from times relative to a fractional now. */
const roundingMs = 1e-6

/**
 * Counts a start at `t` in the window (moved on by any rounding left, so the
 * window has room, as the engine would have waited).
 */
const record = (window: RateWindow, t: number): void => {
  let at = t + window.waitAt(t)
  if (window.waitAt(at) > 0) at += window.waitAt(at) + roundingMs
  window.record(at)
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
