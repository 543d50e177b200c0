/**
 * One named predicate per invariant of a run, over its trace. Each returns
 * `undefined` when the invariant holds, else a sentence saying where and how
 * it broke (event numbers refer to `formatTrace`).
 *
 * Steps are named by the model (`s0`, `s1`, …); what the events do not carry
 * (optional steps, planned failures, fail-fast) comes from the model too, so a
 * predicate checks the engine against the definition, not against itself.
 */
import type { Event, EventOf } from "../runtime/Event.ts"
import type { EndStatus } from "../runtime/StepStatus.ts"
import { attemptsOf, demandOf, depsOf, idOf, indexOfId, limitOf, plansFailures, resourceOf, succeeds, type WorkflowModel } from "./arbitraries.ts"
import { criticalPath } from "./criticalPath.ts"
import { ranksOf, referenceSchedule } from "./referenceSchedule.ts"
import { checkpointsOf, formatEvent, type Trace } from "./trace.ts"

/** A named check over a trace: `undefined` when it holds, else why not. */
export type Invariant = (trace: Trace) => string | undefined

const at = (events: ReadonlyArray<Event>, i: number): string => `#${i} (${formatEvent(events[i]!).trim()})`

const isFatal = (trace: Trace, event: EventOf<"step:end">): boolean => {
  const step = trace.model.steps[indexOfId(event.step)]
  return event.status === "failed" && step !== undefined && !step.optional
}

/**
 * 0. The trace has the shape of a run: `run:start` first, `run:end` last and
 * once, times never go back, the announced graph and limit are the model's,
 * and every event names a step of the workflow.
 */
export const wellFormed: Invariant = ({ model, events }) => {
  const first = events[0]
  if (first?.type !== "run:start") return "the trace does not begin with run:start"
  const last = events.at(-1)
  if (last?.type !== "run:end") return "the trace does not end with run:end"
  const ids = model.steps.map((_, i) => idOf(i))
  const announced = JSON.stringify(first.steps.map((s) => [s.id, [...s.deps].sort()]))
  const expected = JSON.stringify(model.steps.map((s, i) => [idOf(i), depsOf(s).map(idOf).sort()]))
  if (announced !== expected) return `run:start announces the graph ${announced}, the model is ${expected}`
  if (first.concurrency !== limitOf(model)) return `run:start announces concurrency ${first.concurrency}, the model asks for ${limitOf(model)}`
  for (let i = 1; i < events.length; i++) {
    const event = events[i]!
    if (event.time < events[i - 1]!.time) return `time goes back at ${at(events, i)}`
    if (event.type === "run:start" || (event.type === "run:end" && i !== events.length - 1)) return `a second ${event.type} at ${at(events, i)}`
    if ("step" in event && event.step !== undefined && !ids.includes(event.step)) return `${at(events, i)} names an unknown step`
  }
  if (last.durationMs !== last.time) return `run:end says ${last.durationMs} ms but is stamped ${last.time}`
  return undefined
}

/**
 * 1. A step becomes ready, and starts, only after every step it needs or runs
 * after has ended succeeded (or failed while optional); it starts only once
 * ready, and attempts count 1, 2, 3 …
 */
export const startsAfterDeps: Invariant = ({ model, events }) => {
  const ended = new Map<string, EndStatus>()
  const ready = new Set<string>()
  const attempts = new Map<string, number>()
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!
    if (event.type === "step:end") ended.set(event.step, event.status)
    if (event.type !== "step:ready" && event.type !== "step:start") continue
    const deps = depsOf(model.steps[indexOfId(event.step)]!)
    for (const d of deps) {
      const status = ended.get(idOf(d))
      const optional = model.steps[d]!.optional
      if (status === "succeeded" || (status === "failed" && optional)) continue
      const why = status === undefined ? "has not ended" : `ended ${status}${optional ? "" : " and is not optional"}`
      return `${at(events, i)}: ${event.step} waits for ${idOf(d)}, which ${why}`
    }
    if (event.type === "step:ready") {
      ready.add(event.step)
      continue
    }
    if (!ready.has(event.step)) return `${at(events, i)}: ${event.step} starts without step:ready`
    const expected = (attempts.get(event.step) ?? 0) + 1
    if (event.attempt !== expected) return `${at(events, i)}: ${event.step} starts attempt ${event.attempt}, expected ${expected}`
    attempts.set(event.step, expected)
  }
  return undefined
}

/**
 * 2. Every step ends exactly once and nothing happens to it afterwards; when
 * no failure is planned (and nobody aborts), every step and the run succeed.
 */
export const endsOnce: Invariant = ({ model, events, abortAt }) => {
  const allSucceed = !plansFailures(model) && abortAt === undefined
  const ended = new Map<string, number>()
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!
    if (!("step" in event) || event.step === undefined) continue
    const before = ended.get(event.step)
    if (before !== undefined) return `${at(events, i)} comes after ${event.step} ended at ${at(events, before)}`
    if (event.type === "step:end") {
      ended.set(event.step, i)
      if (allSucceed && event.status !== "succeeded") return `${at(events, i)}: no failure is planned, yet ${event.step} ended ${event.status}`
    }
  }
  const missing = model.steps.map((_, i) => idOf(i)).filter((id) => !ended.has(id))
  if (missing.length > 0) return `never ended: ${missing.join(", ")}`
  const last = events.at(-1)
  if (allSucceed && last?.type === "run:end" && last.status !== "succeeded") return `no failure is planned, yet the run ended ${last.status}`
  return undefined
}

/**
 * 2b. Outcomes follow the plan: a step that runs to its end succeeds exactly
 * when its failures fit in its retries, after that many attempts; the run fails
 * exactly when a step that is not optional fails (unless it was aborted first).
 */
export const outcomesFollowPlan: Invariant = (trace) => {
  const { model, events } = trace
  let fatal = false
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!
    if (event.type === "run:end" && !(trace.abortAt !== undefined && event.status === "cancelled")) {
      const expected = fatal ? "failed" : "succeeded"
      if (event.status !== expected) return `${at(events, i)}: expected the run to end ${expected}`
    }
    if (event.type !== "step:end" || (event.status !== "succeeded" && event.status !== "failed")) continue
    const step = model.steps[indexOfId(event.step)]!
    const expected = succeeds(step) ? "succeeded" : "failed"
    if (event.status !== expected) return `${at(events, i)}: planned to end ${expected}`
    if (event.attempts !== attemptsOf(step)) return `${at(events, i)}: planned to take ${attemptsOf(step)} attempt(s)`
    if (isFatal(trace, event)) fatal = true
  }
  return undefined
}

/** The steps started and not ended, after each event. */
const runningAfterEach = (events: ReadonlyArray<Event>): Array<ReadonlySet<string>> => {
  const running = new Set<string>()
  return events.map((event) => {
    if (event.type === "step:start") running.add(event.step)
    if (event.type === "step:end") running.delete(event.step)
    return new Set(running)
  })
}

/** 3. Steps started and not ended never outnumber the concurrency limit, at any point of the trace. */
export const withinConcurrency: Invariant = ({ model, events }) => {
  const limit = limitOf(model)
  const running = runningAfterEach(events)
  for (let i = 0; i < events.length; i++) {
    if (running[i]!.size > limit) return `after ${at(events, i)}, ${running[i]!.size} steps run (${[...running[i]!].join(", ")}), over the limit of ${limit}`
  }
  return undefined
}

/**
 * 4. Work-conserving: at every quiet point (on virtual time, the end of each
 * instant), no step waits ready while a slot is free. Ready means step:ready
 * seen, not started, not ended.
 */
export const workConserving: Invariant = (trace) => {
  const { model, events } = trace
  const limit = limitOf(model)
  const checkpoints = new Set(checkpointsOf(trace))
  const running = new Set<string>()
  const waiting = new Set<string>()
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!
    if (event.type === "step:ready") waiting.add(event.step)
    if (event.type === "step:start") {
      waiting.delete(event.step)
      running.add(event.step)
    }
    if (event.type === "step:end") {
      waiting.delete(event.step)
      running.delete(event.step)
    }
    if (checkpoints.has(i + 1) && waiting.size > 0 && running.size < limit) {
      return `after ${at(events, i)}, ${[...waiting].join(", ")} wait(s) ready while only ${running.size} of ${limit} slots are used`
    }
  }
  return undefined
}

/** The index of the first failure that is not optional, when fail-fast is on. */
const firstFatal = (trace: Trace): number =>
  trace.model.failFast ? trace.events.findIndex((e) => e.type === "step:end" && isFatal(trace, e)) : -1

/** 5, first clause: after the first fatal failure no step starts, and none but those running then ends otherwise than skipped or cancelled. */
export const nothingStartsAfterFatal: Invariant = (trace) => {
  const { events } = trace
  const first = firstFatal(trace)
  if (first === -1) return undefined
  const running = runningAfterEach(events)[first]!
  for (let i = first + 1; i < events.length; i++) {
    const event = events[i]!
    if (event.type === "step:start") return `${at(events, i)} starts after the fatal failure ${at(events, first)}`
    if (event.type === "step:end" && !running.has(event.step) && event.status !== "cancelled" && event.status !== "skipped") {
      return `${at(events, i)} ends ${event.status} after the fatal failure ${at(events, first)}`
    }
  }
  return undefined
}

/**
 * 5, second clause: every step running at the first fatal failure ends
 * cancelled. On virtual time this holds strictly: sleepers wake one at a time,
 * so a sibling due at the same instant is interrupted before it finishes.
 */
export const runningCancelledAtFatal: Invariant = (trace) => runningCancelledWithin(0)(trace)

/**
 * The same on the real clock, where a body that finished in the same tick as
 * the failing one already reported success before the failure was processed:
 * its work is done, and weft reports it as it happened. Such an end is stamped
 * within `toleranceMs` of the failure (the tick may cross a millisecond); any
 * later end of a running step must be cancelled.
 */
export const runningCancelledWithin = (toleranceMs: number): Invariant => (trace) => {
  const { events } = trace
  const first = firstFatal(trace)
  if (first === -1) return undefined
  const running = runningAfterEach(events)[first]!
  const failedAt = events[first]!.time
  for (let i = first + 1; i < events.length; i++) {
    const event = events[i]!
    if (event.type === "step:end" && running.has(event.step) && event.status !== "cancelled" && event.time - failedAt > toleranceMs) {
      return `${at(events, i)}: ${event.step} was running at the fatal failure ${at(events, first)} and should end cancelled`
    }
  }
  return undefined
}

/** 5, third clause: after a fatal failure with fail-fast, the run ends failed (or cancelled, when aborted too). */
export const runFailsAfterFatal: Invariant = (trace) => {
  const { events } = trace
  const first = firstFatal(trace)
  if (first === -1) return undefined
  const end = events.at(-1)
  if (end?.type !== "run:end" || end.status === "failed" || (trace.abortAt !== undefined && end.status === "cancelled")) return undefined
  return `${at(events, events.length - 1)}: the run should end failed after ${at(events, first)}`
}

/** 5, converse: without fail-fast, nothing is cancelled unless the run was aborted. */
export const noCancelWithoutFailFast: Invariant = ({ model, events, abortAt }) => {
  if (model.failFast || abortAt !== undefined) return undefined
  const i = events.findIndex((e) => e.type === "step:end" && e.status === "cancelled")
  return i === -1 ? undefined : `fail-fast is off, yet ${at(events, i)}`
}

/**
 * 5. Fail-fast: after the first failure that is not optional (its retries
 * spent), no step starts, every step running then ends cancelled, every other
 * step still to end ends skipped or cancelled, and the run ends failed.
 * Without fail-fast, nothing is cancelled unless the run was aborted.
 */
export const failFastStops: Invariant = (trace) =>
  nothingStartsAfterFatal(trace) ?? runningCancelledAtFatal(trace) ?? runFailsAfterFatal(trace) ?? noCancelWithoutFailFast(trace)

/**
 * 5b. Cancelling (the signal aborted at virtual time T): no step starts after
 * T, no step finishes its work after T (what runs is interrupted), the run ends
 * at T at the latest, and cancelled when it was still going at T. Before T,
 * only fail-fast cancels.
 */
export const cancelStops: Invariant = (trace) => {
  const { model, events, abortAt } = trace
  if (abortAt === undefined) return undefined
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!
    if (event.type === "step:start" && event.time > abortAt) return `${at(events, i)} starts after the abort at ${abortAt} ms`
    if (event.type === "step:end" && event.time > abortAt && (event.status === "succeeded" || event.status === "failed")) {
      return `${at(events, i)} finishes after the abort at ${abortAt} ms instead of being interrupted`
    }
    if (event.type === "step:end" && event.status === "cancelled" && event.time < abortAt && !model.failFast) {
      return `${at(events, i)} is cancelled before the abort at ${abortAt} ms, without fail-fast`
    }
    if (event.type === "run:end") {
      if (event.time > abortAt) return `${at(events, i)}: the run outlives the abort at ${abortAt} ms`
      if (event.time < abortAt && event.status === "cancelled") return `${at(events, i)}: the run ended cancelled before the abort at ${abortAt} ms`
    }
  }
  return undefined
}

/**
 * 6. The run lasts what the plan says: with unlimited slots, its critical path
 * (attempts and retry delays counted); with a limit, the makespan of the
 * reference list scheduler.
 */
export const makespanMatches: Invariant = ({ model, events }) => {
  const end = events.at(-1)
  if (end?.type !== "run:end") return "the trace does not end with run:end"
  const unlimited = model.concurrency === "unlimited"
  const expected = unlimited ? criticalPath(model) : referenceSchedule(model).makespan
  if (end.time === expected) return undefined
  const ref = referenceSchedule(model)
  const schedule = ref.starts.map((s) => `${idOf(s.step)}#${s.attempt}@${s.time}`).join(" ")
  return `the run took ${end.time} ms, the ${unlimited ? "critical path" : "reference schedule"} takes ${expected} ms (reference starts: ${schedule})`
}

/**
 * 6b. Stronger than 6: every attempt starts at the time the reference
 * scheduler starts it, in the same order.
 */
export const startsMatchReference: Invariant = ({ model, events }) => {
  const actual = events.flatMap((e) => (e.type === "step:start" ? [`${e.step}#${e.attempt}@${e.time}`] : []))
  const expected = referenceSchedule(model).starts.map((s) => `${idOf(s.step)}#${s.attempt}@${s.time}`)
  const k = actual.findIndex((a, i) => a !== expected[i])
  if (k === -1 && actual.length === expected.length) return undefined
  const i = k === -1 ? Math.min(actual.length, expected.length) : k
  return `start ${i + 1} differs: run ${actual[i] ?? "(none)"}, reference ${expected[i] ?? "(none)"}\n  run:       ${actual.join(" ")}\n  reference: ${expected.join(" ")}`
}

/**
 * Replays a trace's resource use: `visit(i, usage, held, waiting)` sees, before
 * event `i` applies, each resource's amount held (a step holds its demand from
 * its first step:start to its step:end, retries included), how many steps
 * hold a slot, and the steps ready but not started.
 */
const replayResources = (
  model: WorkflowModel,
  events: ReadonlyArray<Event>,
  visit: (i: number, usage: ReadonlyArray<number>, running: number, waiting: ReadonlySet<number>) => string | undefined
): string | undefined => {
  const usage = (model.resources ?? []).map(() => 0)
  const started = new Set<number>()
  const waiting = new Set<number>()
  for (let i = 0; i < events.length; i++) {
    const why = visit(i, usage, started.size, waiting)
    if (why !== undefined) return why
    const event = events[i]!
    if (event.type === "step:ready") waiting.add(indexOfId(event.step))
    if (event.type === "step:start" && event.attempt === 1) {
      const s = indexOfId(event.step)
      waiting.delete(s)
      started.add(s)
      demandOf(model, s).forEach((d, r) => (usage[r]! += d))
    }
    if (event.type === "step:end") {
      const s = indexOfId(event.step)
      waiting.delete(s)
      if (started.delete(s)) demandOf(model, s).forEach((d, r) => (usage[r]! -= d))
    }
  }
  return undefined
}

/** 8. Resources: at no point of the trace do the steps holding a resource use more of it than its capacity. */
export const withinResources: Invariant = ({ model, events }) => {
  const capacity = model.resources ?? []
  return replayResources(model, events, (i, usage) => {
    const r = usage.findIndex((u, r) => u > capacity[r]!)
    return r === -1 ? undefined : `before ${at(events, i)}, ${usage[r]} of ${resourceOf(r)} are held, over its capacity ${capacity[r]}`
  })
}

/** Whether step `a` ranks before step `b` (longest path, then index). */
const outranks = (rank: ReadonlyArray<number>, a: number, b: number): boolean => rank[a]! > rank[b]! || (rank[a] === rank[b] && a < b)

/**
 * 8b. No starvation (the reservation rule): while the best-ranked ready step
 * waits, a lower-ranked step starts only if it fits in what is free after
 * setting aside that step's whole demand; so the step waits only for the holders
 * running when it became the best, and for better-ranked steps.
 */
export const reservationHonoured: Invariant = ({ model, events }) => {
  if (model.resources === undefined) return undefined
  const capacity = model.resources
  const rank = ranksOf(model)
  return replayResources(model, events, (i, usage, _running, waiting) => {
    const event = events[i]!
    if (event.type !== "step:start" || event.attempt !== 1) return undefined
    const s = indexOfId(event.step)
    let head: number | undefined
    for (const w of waiting) if (w !== s && (head === undefined || outranks(rank, w, head))) head = w
    if (head === undefined || !outranks(rank, head, s)) return undefined
    const reserved = demandOf(model, head)
    const r = demandOf(model, s).findIndex((d, r) => d > 0 && usage[r]! + reserved[r]! + d > capacity[r]!)
    return r === -1 ? undefined : `${at(events, i)} takes ${resourceOf(r)} that ${idOf(head)}, ranked higher and waiting, has reserved`
  })
}

/**
 * 8c. Work-conserving with resources: at the end of each instant, no waiting
 * step could start under the rule (a free slot, its demand free after the best
 * blocked step's reservation).
 */
export const resourcesWorkConserving: Invariant = (trace) => {
  const { model, events } = trace
  const capacity = model.resources ?? []
  const limit = limitOf(model)
  const rank = ranksOf(model)
  const quiet = new Set(checkpointsOf(trace))
  return replayResources(model, events, (i, usage, running, waiting) => {
    if (!quiet.has(i) || running >= limit) return undefined
    let reserved: ReadonlyArray<number> | undefined
    for (const w of [...waiting].sort((a, b) => (outranks(rank, a, b) ? -1 : 1))) {
      const demand = demandOf(model, w)
      if (demand.every((d, r) => d === 0 || usage[r]! + (reserved?.[r] ?? 0) + d <= capacity[r]!)) {
        return `before ${at(events, i)}, ${idOf(w)} waits ready though a slot and its resources ${JSON.stringify(demand)} are free (held ${JSON.stringify(usage)})`
      }
      reserved ??= demand
    }
    return undefined
  })
}

/** 7. Determinism: two runs of the same workflow produce the same trace. */
export const sameTrace = (a: Trace, b: Trace): string | undefined => {
  const n = Math.max(a.events.length, b.events.length)
  for (let i = 0; i < n; i++) {
    const x = a.events[i]
    const y = b.events[i]
    // Run ids are unique by design: two runs of one schedule differ there only.
    if (JSON.stringify(x?.type === "run:start" ? { ...x, run: "" } : x) !== JSON.stringify(y?.type === "run:start" ? { ...y, run: "" } : y)) {
      return `the traces part at #${i}: ${x === undefined ? "(end)" : formatEvent(x).trim()} vs ${y === undefined ? "(end)" : formatEvent(y).trim()}`
    }
  }
  return undefined
}

/** The invariants that hold for every run on virtual time, by name. */
export const traceInvariants = {
  wellFormed,
  startsAfterDeps,
  endsOnce,
  outcomesFollowPlan,
  withinConcurrency,
  workConserving,
  failFastStops,
  cancelStops
} satisfies Record<string, Invariant>

/** Every invariant that fails on `trace`, with its explanation. */
export const violations = (trace: Trace, invariants: Record<string, Invariant> = traceInvariants): Array<string> =>
  Object.entries(invariants).flatMap(([name, check]) => {
    const why = check(trace)
    return why === undefined ? [] : [`${name}: ${why}`]
  })
