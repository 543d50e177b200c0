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
import { enqueueActions, setup } from "xstate"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Event } from "./Event.ts"
import { clockOf, defaultStages, executor, type ExecutorEvent } from "./Executor.ts"
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

/** The machine's note to itself that its outbox still holds events. */
type FlushEvent = { readonly type: "machine.flush" }

/**
 * The most events emitted in one XState turn. XState queues a turn's emits in
 * an array it drains with `shift()`, which is O(length) once the array is
 * large: emitting a wide graph's 25,000 first `step:ready` events (or a big
 * run's cancellations) in one turn cost O(n²), 15% of a 100,000-step run.
 */
const maxEventsPerTurn = 1024

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
      events: MachineEvent | FlushEvent
      emitted: Event
      output: RunResult
    },
    actors: { executor },
    actions: {
      /** Emits what the last change produced and hands new starts to the executor. */
      flush: enqueueActions(({ context, enqueue, self }) => {
        const outbox = context.run.takeOutbox(maxEventsPerTurn)
        for (const event of outbox.events) enqueue.emit(event)
        if (outbox.starts.length > 0) enqueue.sendTo("executor", { type: "executor.start", starts: outbox.starts })
        if (outbox.interrupt) enqueue.sendTo("executor", { type: "executor.interrupt" })
        // The rest goes out in the next turns; the mailbox runs them right after this one.
        if (context.run.hasOutbox) enqueue.sendTo(self, { type: "machine.flush" })
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
            }, "flush"]
          },
          cancel: { actions: [({ context }) => context.run.cancel(now()), "flush"] },
          "machine.flush": { actions: "flush" }
        },
        // Done once every step has ended and every event about them is out.
        always: { guard: ({ context }) => context.run.finished && !context.run.hasOutbox, target: "done" }
      },
      done: { type: "final", entry: [({ context }) => context.run.finish(now()), "flush"] }
    },
    output: ({ context }) => context.run.result!
  })
}
