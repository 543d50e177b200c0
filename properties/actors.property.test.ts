/**
 * The run's step actors, over random workflows on virtual time: at every
 * snapshot of the run actor, its live step actors are exactly the steps
 * running (so never more than the concurrency), and none is left at the end.
 * Failures, retries, fail-fast stops and cancels included.
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import type { InspectionEvent } from "xstate"
import { describe, test } from "vitest"
import { limitOf, sleepingBody, toWorkflow, workflowModel, type WorkflowModel } from "./arbitraries.ts"
import { horizonOf, runs } from "./harness.ts"
import { runEffect } from "../runtime/Run.ts"
import type { StepStatus } from "../runtime/StepStatus.ts"

interface RunSnapshot {
  readonly status: string
  readonly value: string
  readonly children: Readonly<Record<string, { readonly systemId?: string }>>
  readonly context: { readonly steps: Readonly<Record<string, StepStatus>>; readonly progress: { readonly running: number } }
}

/** What is wrong with one snapshot of the run actor, if anything. */
const problemOf = (snapshot: RunSnapshot, limit: number): string | undefined => {
  const actors = Object.values(snapshot.children).flatMap((child) => (child.systemId === undefined ? [] : [child.systemId])).sort()
  const running = Object.entries(snapshot.context.steps).flatMap(([id, status]) => (status === "running" ? [id] : [])).sort()
  if (actors.join() !== running.join()) return `step actors [${actors}] but steps running [${running}]`
  if (actors.length > limit) return `${actors.length} step actors, over the concurrency ${limit}`
  if (snapshot.context.progress.running !== running.length) return `progress.running ${snapshot.context.progress.running}, but ${running.length} running`
  if (snapshot.status === "done" && actors.length > 0) return `step actors [${actors}] left when the run ended`
  return undefined
}

/** Runs `model` on virtual time (aborted at `abortAt`, if given) and checks every snapshot the run actor shows. */
const checkActors = (model: WorkflowModel, abortAt: number | undefined): Promise<void> => {
  const problems: Array<string> = []
  let snapshots = 0
  const inspect = (event: InspectionEvent) => {
    if (event.type !== "@xstate.snapshot" || event.actorRef.sessionId !== event.rootId) return
    snapshots++
    const problem = problemOf(event.snapshot as unknown as RunSnapshot, limitOf(model))
    if (problem !== undefined) problems.push(`snapshot ${snapshots} (${(event.snapshot as unknown as RunSnapshot).value}): ${problem}`)
  }
  const controller = new AbortController()
  const program = Effect.gen(function*() {
    const fiber = yield* Effect.forkDetach(runEffect(toWorkflow(model, sleepingBody), { signal: controller.signal, inspect }))
    if (abortAt !== undefined) yield* Effect.forkDetach(Effect.andThen(Effect.sleep(abortAt), Effect.sync(() => controller.abort())))
    yield* TestClock.adjust(horizonOf(model))
    if (fiber.pollUnsafe() === undefined) return yield* Effect.die(new Error("the run had not ended"))
    return yield* Fiber.join(fiber)
  })
  return Effect.runPromise(Effect.provide(program, TestClock.layer())).then(() => {
    if (problems.length > 0) throw new Error(`${problems.slice(0, 5).join("\n")}\nmodel: ${JSON.stringify(model)}`)
    if (snapshots === 0) throw new Error("the inspection showed no snapshot of the run")
  })
}

describe("step actors on virtual time", () => {
  test("live step actors are exactly the running steps at every snapshot, never more than the concurrency", async () => {
    await fc.assert(fc.asyncProperty(workflowModel({ concurrency: fc.integer({ min: 1, max: 3 }) }), (model) => checkActors(model, undefined)), runs(150))
  })

  test("likewise with resources, and when the run is cancelled midway", async () => {
    const model = fc.oneof(workflowModel({ concurrency: fc.integer({ min: 1, max: 3 }) }), workflowModel({ resources: true }))
    await fc.assert(
      fc.asyncProperty(model, fc.nat({ max: 20 }), (m, abortAt) => checkActors(m, abortAt)),
      runs(150)
    )
  })
})
