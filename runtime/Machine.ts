/**
 * Compiles a workflow to an XState machine: the single source of truth for a
 * run's state.
 *
 * ```
 *   ┌─────────┐  every step ended  ┌──────┐
 *   │ running │ ─────────────────▶ │ done │  (final; output: RunResult)
 *   └─────────┘                    └──────┘
 *     invokes the executor; applies its reports and `cancel` to RunState
 * ```
 *
 * One machine per run holds every step's status in its context (a `RunState`)
 * instead of one actor per step: an actor costs about 20 µs and 10 KB, too
 * much for 100,000-step workflows. Steps' bodies run in the invoked executor;
 * everything the run does is emitted as `Event`s (`actor.on("*", …)`).
 */
import * as Context from "effect/Context"
import { enqueueActions, setup, type AnyActorScope } from "xstate"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Event } from "./Event.ts"
import { clockOf, consume, defaultStages, executor, type ExecutorEvent } from "./Executor.ts"
import type { Stage } from "./Pipeline.ts"
import * as Plan from "./Plan.ts"
import { RunState, type RunResult } from "./RunState.ts"
import { availableParallelism } from "node:os"

export interface CompileOptions extends Plan.PlanOptions {
  /** How many steps may run at once (default: the workflow's, else the machine's available parallelism). */
  readonly concurrency?: number | undefined
  /** Stop at the first failure (default: the workflow's, else true). */
  readonly failFast?: boolean | undefined
  /** Folder commands run in (default: the current directory). */
  readonly cwd?: string | undefined
  /** Services step fibers run with (default: Effect's defaults, the real clock). */
  readonly services?: Context.Context<never> | undefined
  /** The stages each step runs through (default: retry, timeout, announce). */
  readonly stages?: ReadonlyArray<Stage> | undefined
}

/** What can be sent to a running workflow's actor. */
export type MachineEvent = ExecutorEvent | { readonly type: "cancel" }

/**
 * An action that emits `events`, in order, each on its own to the actor's
 * listeners, like one XState `emit` per event.
 *
 * XState's `emit` costs about a microsecond and a kilobyte per event (an
 * action function, its resolution, a deferred closure, an inspection record),
 * and XState drains a turn's deferred work with `Array#shift`, O(n) per call
 * once the array is large: 25,000 first `step:ready` events in one turn took
 * O(n²). A 100,000-step run emits over 300,000 events, so this action emits a
 * whole batch at once. It follows the protocol of XState's built-in actions,
 * which is how `emit` itself is written: `resolve` passes the batch on, and
 * `execute` gets the actor scope and defers the emits until the turn's
 * snapshot is committed, exactly where `emit` would.
 */
const emitAll = (events: ReadonlyArray<Event>) => {
  function emitAll(): void {
    // XState calls a built-in action's `execute`, never the action itself.
    throw new Error("weft bug: this XState version does not run built-in actions as weft expects")
  }
  emitAll.type = "weft.emitAll"
  emitAll.resolve = (_scope: AnyActorScope, snapshot: unknown) => [snapshot, events, undefined]
  emitAll.execute = (scope: AnyActorScope, batch: ReadonlyArray<Event>) =>
    scope.defer(() => {
      for (const event of batch) scope.emit(event)
    })
  return emitAll
}

/**
 * The machine that runs `wf`. `createActor(compile(wf)).start()` runs it; its
 * snapshot's `context.run.statusOf(id)` tells each step's status, and the actor's
 * output is the `RunResult`.
 *
 * @throws DefinitionError when the workflow cannot run.
 * @example
 * const actor = createActor(compile(wf))
 * actor.on("*", (event) => console.log(event.type))
 * actor.start()
 */
export const compile = (wf: Workflow<any>, options: CompileOptions = {}) => {
  const plan = Plan.make(wf, options)
  const services = options.services ?? Context.empty()
  const now = clockOf(services)
  const concurrency = options.concurrency ?? wf.options.concurrency ?? availableParallelism()
  if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new RangeError(`concurrency must be a whole number of at least 1, not ${concurrency}`)
  }
  const failFast = options.failFast ?? wf.options.failFast ?? true

  return setup({
    types: {} as {
      context: { readonly run: RunState }
      events: MachineEvent
      emitted: Event
      output: RunResult
    },
    actors: { executor },
    actions: {
      /** Emits what the last change produced and hands new starts to the executor. */
      flush: enqueueActions(({ context, enqueue }) => {
        const outbox = context.run.takeOutbox()
        if (outbox.events.length > 0) enqueue(emitAll(outbox.events))
        if (outbox.starts.length > 0) enqueue.sendTo("executor", { type: "executor.start", starts: outbox.starts })
        if (outbox.interrupt) enqueue.sendTo("executor", { type: "executor.interrupt" })
      })
    }
  }).createMachine({
    id: wf.name,
    // XState builds the context by spreading, so the RunState instance sits one level down.
    context: () => ({ run: new RunState(plan, { concurrency, failFast }) }),
    initial: "running",
    states: {
      running: {
        invoke: {
          id: "executor",
          src: "executor",
          input: () => ({ plan, services, cwd: options.cwd ?? process.cwd(), stages: options.stages ?? defaultStages })
        },
        on: {
          "executor.ready": { actions: [({ context, event }) => context.run.begin(event.time), "flush"] },
          "executor.updates": {
            actions: [({ context, event }) => {
              for (const update of event.updates) context.run.apply(update)
              consume(event.updates)
            }, "flush"]
          },
          cancel: { actions: [({ context }) => context.run.cancel(now()), "flush"] }
        },
        always: { guard: ({ context }) => context.run.finished, target: "done" }
      },
      done: { type: "final", entry: [({ context }) => context.run.finish(now()), "flush"] }
    },
    output: ({ context }) => context.run.result!
  })
}
