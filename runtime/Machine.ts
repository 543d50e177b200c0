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
import * as path from "node:path"
import * as Context from "effect/Context"
import { setup, type AnyActorRef, type AnyActorScope } from "xstate"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Event } from "./Event.ts"
import { clockOf, consume, executor, type Executor, type ExecutorEvent } from "./Executor.ts"
import type { Stage } from "./Pipeline.ts"
import type { CacheSettings } from "./cache/runCache.ts"
import type { JournalSetup } from "./journal/stage.ts"
import type { KeptResult } from "./watch/keep.ts"
import { makeRunId } from "./history/runId.ts"
import { runOptionsError } from "./runOptions.ts"
import { alertsOf } from "../dsl/alertOptions.ts"
import { expectedRunMs } from "./alerts.ts"
import * as Plan from "./Plan.ts"
import { RunState, type Outbox, type RunResult } from "./RunState.ts"
import type { RateLimiter } from "./RateLimiter.ts"
import { resolveConcurrency, withCommandLimit } from "./concurrency.ts"

export interface CompileOptions extends Plan.PlanOptions {
  /**
   * How many steps of any kind may run at once, commands included (default:
   * the workflow's, else 64 or the CPU count if larger). See `concurrency.ts`.
   */
  readonly concurrency?: number | undefined
  /** How many command steps may run at once, within `concurrency` (default: the workflow's, else `concurrency` when set, else the CPU count). */
  readonly commandConcurrency?: number | undefined
  /** The CPU count the defaults derive from (default: `os.availableParallelism()`): for a container that reports more CPUs than it may use, and for tests. */
  readonly cpus?: number | undefined
  /** Stop at the first failure (default: the workflow's, else true). */
  readonly failFast?: boolean | undefined
  /** Folder commands run in (default: the current directory). */
  readonly cwd?: string | undefined
  /** Services step fibers run with (default: Effect's defaults, the real clock). */
  readonly services?: Context.Context<never> | undefined
  /** The stages each step runs through inside the cache (default: `defaultStages`: retry, rate limit, timeout, announce). */
  readonly stages?: ReadonlyArray<Stage> | undefined
  /** Where each step's body runs (default: `localExecutor`, in this process). See `Executor.ts`. */
  readonly executor?: Executor | undefined
  /** How the run uses the step cache and memoized calls (default: read and write `cache` in `weftDir`). */
  readonly cache?: CacheSettings | undefined
  /**
   * The folder weft keeps everything in: the cache (unless `cache.dir` or
   * `$WEFT_CACHE_DIR` moves it), file digests, history, run journals
   * (default: `$WEFT_DIR`, else `.weft` under `cwd`). See `weftDir.ts`.
   */
  readonly weftDir?: string | undefined
  /** The run's journal, opened by `run` (see `openRunJournal`); none by default. */
  readonly journal?: JournalSetup | undefined
  /** The id `run:start` announces (default: a fresh `makeRunId`); names the run's history and log files. */
  readonly runId?: string | undefined
  /**
   * Results to reuse without running, by step id: each such step ends `cached`
   * with this value (`savedMs`: its duration), before the journal and the cache
   * are asked. Watch mode passes the previous run's results for the steps no
   * change affected; the caller vouches that they are still right.
   */
  readonly keep?: ReadonlyMap<string, KeptResult> | undefined
  /**
   * Turns the environment checks off, for debugging (`weft run --allow-all`):
   * every step sees the whole environment and `ctx.env` refuses nothing. The
   * run says so with a `run:warning`; secrets are still masked.
   */
  readonly allowAll?: boolean | undefined
  /**
   * The enclosing run's rate limiters, when this run is a sub-workflow: a
   * limit it declares under the same name is that limiter (the outer
   * definition holds), so the limit holds across both runs.
   */
  readonly rateLimiters?: ReadonlyMap<string, RateLimiter> | undefined
  /**
   * Cancels the run when aborted: running steps are interrupted, the run ends
   * `cancelled`. Once it is aborted no step starts, so a signal aborted before
   * the run starts none: every step ends `cancelled`.
   */
  readonly signal?: AbortSignal | undefined
}

/** What can be sent to a running workflow's actor. */
export type MachineEvent = ExecutorEvent | { readonly type: "cancel" }

/**
 * An action that applies one input to the run with `change`, then carries out
 * what that left in the run's outbox: emits its events, in order, each on its
 * own to the actor's listeners (like one XState `emit` per event), then hands
 * new starts, or an interrupt, to the executor.
 *
 * XState's `emit` costs about a microsecond and a kilobyte per event (an
 * action function, its resolution, a deferred closure, an inspection record),
 * and XState drains a turn's deferred work with `Array#shift`, O(n) per call
 * once the array is large: 25,000 first `step:ready` events in one turn took
 * O(n²). A 100,000-step run emits over 300,000 events, so this action emits a
 * whole batch at once. And it is one action per machine event, built once,
 * rather than an inline action plus `enqueueActions` (a dozen closures per
 * call, and an `emit` and a `sendTo` action built per batch): the machine
 * takes an event per chunk of a command's output and per batch of step ends,
 * and XState keeps each event's action records alive for a while (below).
 *
 * It follows the protocol of XState's built-in actions, which is how `emit`
 * and `sendTo` are written: `resolve` changes the run and takes the outbox,
 * as `enqueueActions` runs its callback there, and `execute` gets the actor
 * scope and defers the work until the turn's snapshot is committed, exactly
 * where `emit` and `sendTo` would.
 */
const settle = <E>(type: string, change: (run: RunState, event: E) => void) => {
  interface Params {
    readonly outbox: Outbox
    readonly executor: AnyActorRef | undefined
  }
  function settle(): void {
    // XState calls a built-in action's `execute`, never the action itself.
    throw new Error("weft bug: this XState version does not run built-in actions as weft expects")
  }
  settle.type = `weft.${type}`
  settle.resolve = (
    _scope: AnyActorScope,
    snapshot: { readonly children: Record<string, AnyActorRef | undefined> },
    args: { readonly context: { readonly run: RunState }; readonly event: E }
  ): [unknown, Params, undefined] => {
    change(args.context.run, args.event)
    return [snapshot, { outbox: args.context.run.takeOutbox(), executor: snapshot.children.executor }, undefined]
  }
  settle.execute = (scope: AnyActorScope, { outbox, executor }: Params) => {
    if (outbox.events.length === 0 && outbox.starts.length === 0 && outbox.resumes.length === 0 && !outbox.interrupt) return
    scope.defer(() => {
      for (const event of outbox.events) scope.emit(event)
      // Emitted: let the events go, as `consume` does for the executor's
      // batches. XState's microstep swaps a closure holding the turn's action
      // records into the long-lived actor scope, which keeps them (and so
      // their params, this outbox) alive through young-generation
      // collections: every event and log line was promoted to the old
      // generation. A step printing 1 GiB peaked at 300-400 MB RSS, and a
      // 100,000-step run used 20 MB more.
      outbox.events.length = 0
      if (outbox.starts.length > 0) executor?.send({ type: "executor.start", starts: outbox.starts })
      if (outbox.resumes.length > 0) executor?.send({ type: "executor.resume", steps: outbox.resumes })
      if (outbox.interrupt) executor?.send({ type: "executor.interrupt" })
    })
  }
  return settle
}

const begin = settle<Extract<ExecutorEvent, { type: "executor.ready" }>>("begin", (run, event) => run.begin(event.time))
const apply = settle<Extract<ExecutorEvent, { type: "executor.updates" }>>("apply", (run, event) => {
  for (const update of event.updates) run.apply(update)
  consume(event.updates)
})
const cancel = (now: () => number) => settle<unknown>("cancel", (run) => run.cancel(now()))
const finish = (now: () => number) => settle<unknown>("finish", (run) => run.finish(now()))

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
  // `run` checked these already; `compile` may be called on its own. The
  // journal here is the one `run` opened, not `run`'s option of that name.
  const invalid = runOptionsError(wf, options, { unknown: false, skip: ["journal"] })
  if (invalid !== undefined) throw invalid
  const limits = resolveConcurrency(options, wf.options, options.cpus)
  const plan = withCommandLimit(Plan.make(wf, options), limits.commands, limits.slots)
  const services = options.services ?? Context.empty()
  const now = clockOf(services)
  const failFast = options.failFast ?? wf.options.failFast ?? true
  // A run id names files and folders: the check keeps out anything that could leave them.
  const runId = options.runId ?? makeRunId(now())
  const alerts = alertsOf(wf.options.alerts)
  const expectedMs = alerts.runOverrun === undefined ? undefined : expectedRunMs(plan, limits.slots)

  return setup({
    types: {} as {
      context: { readonly run: RunState }
      events: MachineEvent
      emitted: Event
      output: RunResult
    },
    actors: { executor }
  }).createMachine({
    id: wf.name,
    // XState builds the context by spreading, so the RunState instance sits one level down.
    context: () => ({ run: new RunState(plan, { concurrency: limits.slots, commandConcurrency: limits.commands, failFast, runId, permissionsOff: options.allowAll === true, memoHitRate: alerts.memoHitRate }) }),
    initial: "running",
    states: {
      running: {
        invoke: {
          id: "executor",
          src: "executor",
          input: () => ({
            plan,
            services,
            cwd: options.cwd ?? process.cwd(),
            // The CLI's cache settings hold the absolute path; `file` may be as the user typed it.
            file: options.cache?.file ?? (options.file === undefined ? undefined : path.resolve(options.cwd ?? process.cwd(), options.file)),
            stages: options.stages,
            executor: options.executor,
            cache: { root: options.cwd, file: options.file, ...options.cache, ...(options.weftDir === undefined ? {} : { weftDir: options.weftDir }) },
            journal: options.journal,
            keep: options.keep,
            allowAll: options.allowAll,
            rateLimiters: options.rateLimiters,
            signal: options.signal,
            alerts: { stepOverrun: alerts.stepOverrun, run: expectedMs === undefined ? undefined : { expectedMs, factor: alerts.runOverrun! } }
          })
        },
        on: {
          "executor.ready": { actions: begin },
          "executor.updates": { actions: apply },
          cancel: { actions: cancel(now) }
        },
        always: { guard: ({ context }) => context.run.finished, target: "done" }
      },
      done: { type: "final", entry: finish(now) }
    },
    output: ({ context }) => context.run.result!
  })
}
