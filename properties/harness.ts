/**
 * Runs generated workflows and checks invariants on what they did.
 *
 * - `runModel` runs a model on `TestClock` virtual time and returns its trace
 *   and result.
 * - `runOnScheduler` runs it on real promises released by `fc.scheduler()`;
 *   `runInWaves` finishes several bodies in the same tick.
 * - `check` throws an error that prints every broken invariant, the graph and
 *   the trace, so fast-check shows them next to the counterexample and the
 *   seed and path it prints for replay (`fc.assert(prop, { seed, path })`).
 */
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Event } from "../runtime/Event.ts"
import { run, runEffect } from "../runtime/Run.ts"
import type { RunResult } from "../runtime/RunState.ts"
import { idOf, plannedFailure, sleepingBody, toWorkflow, totalTimeOf, type BodyOf, type WorkflowModel } from "./arbitraries.ts"
import { violations, type Invariant } from "./invariants.ts"
import { formatEvents, formatTrace, type Trace } from "./trace.ts"

export interface Run extends Trace {
  readonly result: RunResult
}

/** Virtual time enough for any schedule of `model`: every step one after another, then some. */
export const horizonOf = (model: WorkflowModel): number => model.steps.reduce((sum, step) => sum + totalTimeOf(step), 0) + 1

/**
 * Runs a workflow on `TestClock`, advancing virtual time to `horizon`; fails if
 * the run has not ended by then. With `abortAt`, the run's signal is aborted at
 * that virtual time.
 */
export const runOnTestClock = (
  wf: Workflow<any>,
  horizon: number,
  options: { readonly abortAt?: number | undefined } = {}
): Promise<{ events: Array<Event>; result: RunResult }> => {
  const events: Array<Event> = []
  const controller = new AbortController()
  const program = Effect.gen(function*() {
    // Detached: a stuck run must not hold the test up when this program gives up on it.
    const fiber = yield* Effect.forkDetach(runEffect(wf, { signal: controller.signal, onEvent: (event) => events.push(event) }))
    if (options.abortAt !== undefined) {
      yield* Effect.forkDetach(Effect.andThen(Effect.sleep(options.abortAt), Effect.sync(() => controller.abort())))
    }
    yield* TestClock.adjust(horizon)
    if (fiber.pollUnsafe() === undefined) return yield* Effect.die(new RunStuckError(horizon))
    return yield* Fiber.join(fiber)
  })
  return Effect.runPromise(Effect.provide(program, TestClock.layer())).then(
    (result) => ({ events, result }),
    (error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\ntrace so far:\n${formatEvents(events)}`)
    }
  )
}

class RunStuckError extends Error {
  constructor(horizon: number) {
    super(`the run had not ended after ${horizon} virtual ms, longer than all its steps one after another`)
  }
}

/** Runs a model on virtual time; steps sleep and fail as it plans. */
export const runModel = async (model: WorkflowModel, options: { readonly abortAt?: number | undefined } = {}): Promise<Run> => {
  const { events, result } = await runOnTestClock(toWorkflow(model, sleepingBody), horizonOf(model), options)
  return { model, events, result, abortAt: options.abortAt }
}

/** The failure a property reports: what broke, then the graph and the trace. */
export class InvariantError extends Error {
  constructor(broken: ReadonlyArray<string>, trace: Trace) {
    super(`${broken.map((b) => `✗ ${b}`).join("\n")}\n\n${formatTrace(trace)}\n`)
    this.name = "InvariantError"
  }
}

/** Throws an `InvariantError` when any of `invariants` fails on `trace`. */
export const check = (trace: Trace, invariants?: Record<string, Invariant>): void => {
  const broken = violations(trace, invariants)
  if (broken.length > 0) throw new InvariantError(broken, trace)
}

/** Bodies on real promises: each attempt waits for `s` to release it, then fails when planned. */
export const scheduledBody = (s: fc.Scheduler): BodyOf => (i, step) => async (_inputs, ctx) => {
  await s.schedule(Promise.resolve(), `${idOf(i)} attempt ${ctx.attempt}`)
  if (ctx.attempt <= step.failures) throw plannedFailure(idOf(i), ctx.attempt)
  return idOf(i)
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Waits until nothing moves: no new event and no new scheduled task for
 * `rounds` turns of the event loop in a row. Effect's scheduler hops through
 * `setImmediate`, so a dispatched step announces itself within a few turns.
 */
const settle = async (signature: () => string, rounds = 8): Promise<void> => {
  let last = signature()
  for (let still = 0; still < rounds;) {
    await macrotask()
    const now = signature()
    still = now === last ? still + 1 : 0
    last = now
  }
}

/** Before a release: settle fully and mark a quiet point, or let only this many event-loop turns pass. */
export type Gap = "settle" | number

/**
 * Runs a model with the real `run()` on real promises, letting the fast-check
 * scheduler `s` choose which waiting step body finishes next. Before release
 * `k`, `gaps[k]` says how long to wait: `"settle"` (the default) waits until
 * nothing moves and records the event count as a quiet point
 * (`Trace.checkpoints`); a number lets only that many event-loop turns pass,
 * so the release lands in the middle of the engine's hops (0: together with
 * the previous one) and completions race.
 */
export const runOnScheduler = async (s: fc.Scheduler, model: WorkflowModel, gaps: ReadonlyArray<Gap> = []): Promise<Run> => {
  const events: Array<Event> = []
  const checkpoints: Array<number> = []
  let outcome: { result: RunResult } | { error: unknown } | undefined
  void run(toWorkflow(model, scheduledBody(s)), { onEvent: (event) => events.push(event) }).then(
    (result) => (outcome = { result }),
    (error: unknown) => (outcome = { error })
  )
  for (let k = 0;; k++) {
    const gap = gaps[k] ?? "settle"
    if (gap !== "settle") for (let turn = 0; turn < gap; turn++) await macrotask()
    if (gap === "settle" || s.count() === 0) {
      await settle(() => `${events.length}/${s.count()}/${outcome !== undefined}`)
      if (outcome !== undefined) break
      if (s.count() === 0) {
        throw new Error(`the run is stuck: it has not ended and no step body waits\n\n${formatTrace({ model, events, checkpoints })}`)
      }
      checkpoints.push(events.length)
    }
    await s.waitNext(1)
  }
  if ("error" in outcome) throw outcome.error
  return { model, events, checkpoints, result: outcome.result }
}

/** One body waiting to finish, in `runInWaves`. */
interface Waiting {
  readonly label: string
  readonly finish: () => void
}

/**
 * Runs a model with the real `run()` on real promises, finishing step bodies
 * in waves: before wave `k` the run is settled (a quiet point is recorded),
 * then the waiting bodies picked by `waves[k]` (indices into the waiting list,
 * taken modulo its length, in that order; default `[0]`) finish in the same
 * tick, as when several steps await one shared promise.
 *
 * `fc.scheduler()` cannot do this: it releases one task at a time, with
 * microtask turns in between, so the engine never sees two completions at once.
 */
export const runInWaves = async (model: WorkflowModel, waves: ReadonlyArray<ReadonlyArray<number>> = []): Promise<Run & { readonly finished: ReadonlyArray<ReadonlyArray<string>> }> => {
  const events: Array<Event> = []
  const checkpoints: Array<number> = []
  const waiting: Array<Waiting> = []
  const finished: Array<Array<string>> = []
  const body: BodyOf = (i, step) => async (_inputs, ctx) => {
    await new Promise<void>((finish) => waiting.push({ label: `${idOf(i)} attempt ${ctx.attempt}`, finish }))
    if (ctx.attempt <= step.failures) throw plannedFailure(idOf(i), ctx.attempt)
    return idOf(i)
  }
  let outcome: { result: RunResult } | { error: unknown } | undefined
  void run(toWorkflow(model, body), { onEvent: (event) => events.push(event) }).then(
    (result) => (outcome = { result }),
    (error: unknown) => (outcome = { error })
  )
  for (let k = 0;; k++) {
    await settle(() => `${events.length}/${waiting.length}/${outcome !== undefined}`)
    if (outcome !== undefined) break
    if (waiting.length === 0) {
      throw new Error(`the run is stuck: it has not ended and no step body waits\n\n${formatTrace({ model, events, checkpoints })}`)
    }
    checkpoints.push(events.length)
    const picked = [...new Set((waves[k] ?? [0]).map((n) => waiting[n % waiting.length]!))]
    for (const w of picked) waiting.splice(waiting.indexOf(w), 1)
    finished.push(picked.map((w) => w.label))
    for (const w of picked) w.finish()
  }
  if ("error" in outcome) throw outcome.error
  return { model, events, checkpoints, result: outcome.result, finished }
}

/** `WEFT_PROPERTY_RUNS` scales every suite's run counts (e.g. 10 for a soak). */
const scale = Number(process.env.WEFT_PROPERTY_RUNS ?? 1)

/** fast-check parameters for `n` runs, scaled. */
export const runs = (n: number): fc.Parameters<unknown> => ({ numRuns: Math.max(1, Math.round(n * scale)) })

/** A property that runs each generated model on virtual time and checks `invariants` on its trace. */
export const holds = (arb: fc.Arbitrary<WorkflowModel>, invariants: Parameters<typeof check>[1]) =>
  fc.asyncProperty(arb, async (model) => check(await runModel(model), invariants))
