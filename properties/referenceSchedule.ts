/**
 * The schedule weft should produce for a model, computed by a plain
 * event-driven list scheduler much simpler than the engine: no machine, no
 * fibers, one loop over timers.
 *
 * The rule it models: among ready steps, start the one with the longest
 * remaining path (durations summed down to a sink, the step included), ties by
 * index, while slots are free. Timers that fire at the same instant are handled
 * one at a time in the order they were set (which is how `TestClock` wakes
 * sleepers), and each is immediately followed by filling the free slots. A
 * failed attempt with retries left starts the next attempt after the retry
 * delay, keeping its slot; a step out of retries fails, skipping its
 * dependents unless it is optional; with fail-fast the first such failure ends
 * the run at that instant.
 *
 * With resources, a step starts only when its whole demand fits, and holds it
 * (like its slot) until it ends. Ready steps are tried best first; the first
 * that does not fit reserves its demand: a lower-ranked step starts only if it
 * fits in what is left after that reservation.
 */
import type { RunStatus } from "../runtime/Event.ts"
import type { EndStatus } from "../runtime/StepStatus.ts"
import { demandOf, depsOf, limitOf, retryDelayOf, type WorkflowModel } from "./arbitraries.ts"

export interface ScheduledStart {
  readonly step: number
  readonly attempt: number
  readonly time: number
}

export interface ScheduledEnd {
  readonly step: number
  readonly status: EndStatus
  readonly time: number
}

export interface Schedule {
  readonly starts: ReadonlyArray<ScheduledStart>
  readonly ends: ReadonlyArray<ScheduledEnd>
  readonly status: RunStatus
  /** When the last step ended. */
  readonly makespan: number
}

interface Timer {
  readonly time: number
  readonly seq: number
  readonly step: number
  /** The attempt that ends (`attempt`) or begins once the retry delay is over (`delay`). */
  readonly kind: "attempt" | "delay"
  readonly attempt: number
}

/** Longest path from each step to a sink by durations, the step included. */
export const ranksOf = (model: WorkflowModel): Array<number> => {
  const below = model.steps.map(() => 0)
  const rank = model.steps.map(() => 0)
  for (let i = model.steps.length - 1; i >= 0; i--) {
    rank[i] = model.steps[i]!.duration + below[i]!
    for (const d of depsOf(model.steps[i]!)) below[d] = Math.max(below[d]!, rank[i]!)
  }
  return rank
}

/**
 * The reference's start decision: which of the `ready` steps start, in the
 * order they start, with `slots` slots and `free` of each resource. Ready
 * steps are tried best first (rank, then index); the first that does not fit
 * reserves its demand, and a lower-ranked step starts only if it fits in what
 * is left after that reservation.
 */
export const referencePick = (
  ready: ReadonlyArray<number>,
  rank: ArrayLike<number>,
  slots: number,
  demand: ReadonlyArray<ReadonlyArray<number>>,
  free: ReadonlyArray<number>
): Array<number> => {
  const left = [...free]
  const order = [...ready].sort((a, b) => rank[b]! - rank[a]! || a - b)
  const chosen: Array<number> = []
  let head: number | undefined
  for (const i of order) {
    if (chosen.length >= slots) break
    const reserved = head === undefined ? left.map(() => 0) : demand[head]!
    if (demand[i]!.some((d, r) => d > 0 && d > left[r]! - reserved[r]!)) {
      head ??= i
      continue
    }
    demand[i]!.forEach((d, r) => (left[r]! -= d))
    chosen.push(i)
  }
  return chosen
}

/** The schedule of `model` under weft's priority rule. */
export const referenceSchedule = (model: WorkflowModel): Schedule => {
  const steps = model.steps
  const n = steps.length
  const limit = limitOf(model)
  const rank = ranksOf(model)
  const dependents: Array<Array<number>> = steps.map(() => [])
  steps.forEach((s, i) => depsOf(s).forEach((d) => dependents[d]!.push(i)))
  const waiting = steps.map((s) => depsOf(s).length)
  const state: Array<"pending" | "ready" | "running" | "ended"> = new Array(n).fill("pending")
  const ready: Array<number> = []
  const timers: Array<Timer> = []
  const starts: Array<ScheduledStart> = []
  const ends: Array<ScheduledEnd> = []
  let seq = 0
  let now = 0
  let inFlight = 0
  const demand = steps.map((_, i) => demandOf(model, i))
  const free = [...(model.resources ?? [])]
  let stopping = false
  let failed = false

  const startAttempt = (i: number, attempt: number) => {
    starts.push({ step: i, attempt, time: now })
    timers.push({ time: now + steps[i]!.duration, seq: seq++, step: i, kind: "attempt", attempt })
  }
  const close = (i: number, status: EndStatus) => {
    state[i] = "ended"
    ends.push({ step: i, status, time: now })
  }
  const dispatch = () => {
    if (stopping) return
    for (const i of referencePick(ready, rank, limit - inFlight, demand, free)) {
      ready.splice(ready.indexOf(i), 1)
      demand[i]!.forEach((d, r) => (free[r]! -= d))
      state[i] = "running"
      inFlight++
      startAttempt(i, 1)
    }
  }
  const makeReady = (i: number) => {
    state[i] = "ready"
    ready.push(i)
  }
  const skipFrom = (i: number) => {
    const stack = [...dependents[i]!]
    while (stack.length > 0) {
      const d = stack.pop()!
      if (state[d] !== "pending") continue
      close(d, "skipped")
      stack.push(...dependents[d]!)
    }
  }
  const stop = () => {
    stopping = true
    ready.length = 0
    for (let i = 0; i < n; i++) {
      if (state[i] === "pending" || state[i] === "ready") close(i, "cancelled")
    }
    for (let i = 0; i < n; i++) {
      if (state[i] === "running") {
        close(i, "cancelled")
        inFlight--
      }
    }
    timers.length = 0
  }
  const end = (i: number, status: "succeeded" | "failed") => {
    inFlight--
    demand[i]!.forEach((d, r) => (free[r]! += d))
    close(i, status)
    if (status === "succeeded" || steps[i]!.optional) {
      for (const d of dependents[i]!) {
        if (--waiting[d]! === 0 && state[d] === "pending" && !stopping) makeReady(d)
      }
    } else {
      failed = true
      skipFrom(i)
      if (model.failFast) stop()
    }
    dispatch()
  }

  steps.forEach((_, i) => {
    if (waiting[i] === 0) makeReady(i)
  })
  dispatch()
  while (timers.length > 0) {
    let next = 0
    for (let k = 1; k < timers.length; k++) {
      const a = timers[k]!
      const b = timers[next]!
      if (a.time < b.time || (a.time === b.time && a.seq < b.seq)) next = k
    }
    const timer = timers.splice(next, 1)[0]!
    now = timer.time
    const step = steps[timer.step]!
    if (timer.kind === "delay") {
      startAttempt(timer.step, timer.attempt)
      continue
    }
    if (timer.attempt > step.failures) {
      end(timer.step, "succeeded")
    } else if (timer.attempt > step.retries) {
      end(timer.step, "failed")
    } else {
      const delay = retryDelayOf(step, timer.attempt)
      if (delay <= 0) startAttempt(timer.step, timer.attempt + 1)
      else timers.push({ time: now + delay, seq: seq++, step: timer.step, kind: "delay", attempt: timer.attempt + 1 })
    }
  }
  return { starts, ends, status: failed ? "failed" : "succeeded", makespan: now }
}
