/**
 * Runs generated workflows and checks invariants on what they did.
 *
 * `runModel` runs a model on `TestClock` virtual time and returns its trace
 * and result; `check` throws an error that prints the graph, the trace and
 * every broken invariant, so fast-check shows them next to the seed and path
 * it prints for replay (`fc.assert(prop, { seed, path })`).
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Event } from "../runtime/Event.ts"
import { runEffect } from "../runtime/Run.ts"
import type { RunResult } from "../runtime/RunState.ts"
import { sleepingBody, toWorkflow, totalTimeOf, type BodyOf, type WorkflowModel } from "./arbitraries.ts"
import { violations, type Invariant } from "./invariants.ts"
import { formatTrace, type Trace } from "./trace.ts"

export interface Run extends Trace {
  readonly result: RunResult
}

/** Virtual time enough for any schedule of `model`: every step one after another, then some. */
export const horizonOf = (model: WorkflowModel): number => model.steps.reduce((sum, step) => sum + totalTimeOf(step), 0) + 1

/** Runs a workflow on `TestClock`, advancing virtual time to `horizon`; fails if the run has not ended by then. */
export const runOnTestClock = (wf: Workflow<any>, horizon: number): Promise<{ events: Array<Event>; result: RunResult }> => {
  const events: Array<Event> = []
  const program = Effect.gen(function*() {
    // Detached: a stuck run must not hold the test up when this program gives up on it.
    const fiber = yield* Effect.forkDetach(runEffect(wf, { onEvent: (event) => events.push(event) }))
    yield* TestClock.adjust(horizon)
    if (fiber.pollUnsafe() === undefined) return yield* Effect.die(new RunStuckError(horizon))
    return yield* Fiber.join(fiber)
  })
  return Effect.runPromise(Effect.provide(program, TestClock.layer())).then(
    (result) => ({ events, result }),
    (error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}\ntrace so far:\n${events.map((e) => JSON.stringify(e)).join("\n")}`)
    }
  )
}

class RunStuckError extends Error {
  constructor(horizon: number) {
    super(`the run had not ended after ${horizon} virtual ms, longer than all its steps one after another`)
  }
}

/** Runs a model on virtual time; steps sleep and fail as it plans. */
export const runModel = async (model: WorkflowModel, body: BodyOf = sleepingBody): Promise<Run> => {
  const { events, result } = await runOnTestClock(toWorkflow(model, body), horizonOf(model))
  return { model, events, result }
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
