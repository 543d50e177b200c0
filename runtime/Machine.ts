/**
 * Compiles a workflow to an XState actor system: the run actor, the host it
 * invokes (the executor, which runs step bodies as Effect fibers), and a
 * child actor per running step (`StepActor.ts`).
 *
 * ```
 *                executor.ready                 run.ended [succeeded]
 *   starting ───────────────────▶ running ───────────────────────────▶ succeeded (final)
 *      │ cancel                    │    │ run.failing (fail-fast)        run.ended [failed]
 *      ▼                   cancel  │    ▼                                ─────────▶ failed (final)
 *   cancelling ◀───────────────────┘  failing ── run.ended ──▶ failed (final)
 *      │             ◀── cancel ──────────┘
 *      └── run.ended ──▶ cancelled (final)            (every final state: output RunResult)
 * ```
 *
 * The run actor's context is data for tools: `steps` (every step's status
 * by id, a read-only view of the run's statuses) and `progress` (counts per
 * status, updated in place), O(1) per change; `run` (the `RunState`) holds
 * the rules. The run's
 * `Event`s go to `emitTo` (what `run` uses) or out through XState's `emit`
 * (`actor.on("*", …)`).
 *
 * Step actors, and what they cost. A running step's actor is spawned when
 * the host first reports on it (its start, or a wait for its rate limit) and
 * stopped when its end is applied, with `systemId` the step's id and a slot
 * as its child id (see `StepActors` for why). A step whose start and end come
 * in the same batch gets none: no snapshot could show it running. Measured
 * with `bench/steps.ts --baseline-engine` (100,000 no-op steps, concurrency
 * 8, against the engine before actors, on a loaded 2-core machine): 1.06x
 * its wall time, 1.12-1.15x its CPU time; peak 2.34 KB/step against 2.17
 * (0.1 of it is `context.steps`). Spawning an actor for every step
 * measured 5-6 µs/step more at concurrency 8 and 17 at 64 (XState copies
 * `children` on every spawn and stop), so short steps would cost 1.5-2.5x.
 * Only XState's public API is used: `setup`, `enqueueActions` (`emit`,
 * `spawnChild`, `stopChild`, `sendTo`, `raise`), plain actions and
 * a custom `ActorLogic`.
 */
import * as path from "node:path"
import * as Context from "effect/Context"
import { setup, type AnyActorRef, type StateMachine } from "xstate"
import type { Workflow } from "../dsl/Workflow.ts"
import type { Event } from "./Event.ts"
import { clockOf, consume, executor, type Executor, type ExecutorCommand, type ExecutorEvent } from "./Executor.ts"
import type { StepReport } from "./StepReport.ts"
import type { Stage } from "./Pipeline.ts"
import type { CacheSettings } from "./cache/runCache.ts"
import type { JournalSetup } from "./journal/stage.ts"
import type { KeptResult } from "./watch/keep.ts"
import { makeRunId } from "./history/runId.ts"
import { runOptionsError } from "./runOptions.ts"
import { alertsOf } from "../dsl/alertOptions.ts"
import { expectedRunMs } from "./alerts.ts"
import * as Plan from "./Plan.ts"
import { RunState, type Progress, type RunResult } from "./RunState.ts"
import { StepActors, stepLogic, type Enqueue, type StepActorEvent } from "./StepActor.ts"
import { isFinal, type StepStatus } from "./StepStatus.ts"
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
  /**
   * Where the run's events go, in order, instead of the actor's emitted
   * events (`actor.on`): `run` passes its reporter here. XState's `emit` costs
   * an action object, its resolution and a deferred closure per event (over
   * 300,000 at 100,000 steps), and XState keeps a turn's action records
   * reachable long enough that they reach the old generation: 1.7 KB/step
   * more peak memory, and about 3 µs/step. One plain action per batch hands
   * the batch over instead.
   */
  readonly emitTo?: ((event: Event) => void) | undefined
}

/** What can be sent to a running workflow's actor. */
export type MachineEvent =
  | ExecutorEvent
  | { readonly type: "cancel" }
  /** The run's own: emit the next events of a long batch (see `EmitQueue`). */
  | { readonly type: "run.flush" }
  /** The run's own: the first failure of a fail-fast run stops it. */
  | { readonly type: "run.failing" }
  /** The run's own: every step ended and every event was emitted. */
  | { readonly type: "run.ended" }

/** The run actor's context: plain data for tools (`steps`, `progress`), and the run's rules behind it. */
export interface RunContext {
  /**
   * Every step's status by id, as it is now: a read-only view of the run's
   * statuses (see `viewById`), nothing copied or written per change. JSON,
   * spreads and `for in` see plain data; `{ ...steps }` is a plain copy (to
   * `structuredClone` or post, which a view is not).
   */
  readonly steps: Readonly<Record<string, StepStatus>>
  /**
   * How many steps are in each status, updated in place: an
   * `assign` of a fresh copy per batch cost 0.1 KB/step of peak memory at
   * 100,000 steps (a snapshot and a context copied per batch).
   */
  readonly progress: Progress
  /** The run's rules and full state (`statusOf`, `steps` with attempts and durations). */
  readonly run: RunState
  readonly actors: StepActors
  readonly emitting: EmitQueue
}

/**
 * The events a turn of the run actor has yet to emit, first in first out.
 *
 * Each event goes out with its own `emit` action, but at most `chunk` per
 * turn: XState runs a turn's deferred actions with `Array#shift`, and one
 * action emitting 100,000 events (the `step:ready` of 100,000 roots) took
 * 1.1 s, 200,000 took 9 s. Past the chunk, the run sends itself `run.flush`
 * for the next (1.3-1.8 µs/event, linear). A new batch's events queue
 * behind, so the order holds; the run ends only once the queue is empty.
 */
export class EmitQueue {
  #items: Array<Event> = []
  #head = 0
  #flushing = false
  /** Set once the run actor has been told `run.failing` / `run.ended`. */
  failing = false
  ended = false

  get empty(): boolean {
    return this.#head === this.#items.length
  }

  add(events: Array<Event>): void {
    if (events.length === 0) return
    if (this.empty) {
      this.#items = events
      this.#head = 0
    } else for (const event of events) this.#items.push(event)
  }

  /** Emits up to a chunk; asks for a `run.flush` if more are left. */
  emit(enqueue: { readonly emit: (event: Event) => void; readonly sendTo: (to: AnyActorRef, event: MachineEvent) => void }, self: AnyActorRef): void {
    const items = this.#items
    const stop = Math.min(items.length, this.#head + chunk)
    for (let i = this.#head; i < stop; i++) enqueue.emit(items[i]!)
    this.#head = stop
    if (this.empty) {
      this.#items = []
      this.#head = 0
    } else if (!this.#flushing) {
      this.#flushing = true
      enqueue.sendTo(self, { type: "run.flush" })
    }
  }

  /** A `run.flush` arrived. */
  flushed(): void {
    this.#flushing = false
  }

  toJSON(): { readonly pending: number } {
    return { pending: this.#items.length - this.#head }
  }
}

const chunk = 1024

/** What the host reported of a step, as its actor needs to hear it (see `StepActors`). */
const tellActor = (actors: StepActors, run: RunState, update: StepReport): void => {
  switch (update.type) {
    case "step:start":
      return actors.tell(update.step, update.attempt)
    case "step:waiting":
      if (isFinal(run.status[update.step]!)) return
      return actors.tell(update.step, update.over === true ? run.attempts[update.step]! : { type: "step.waiting", reason: update.reason })
    case "step:retry":
      return actors.tell(update.step, { type: "step.retrying", attempt: update.attempt + 1, reason: update.error })
    case "step:end":
      return actors.end(update.step)
    default:
      return
  }
}
/** One `enqueueActions` call's helpers, as the run actor's actions use them. */
type RunEnqueue = Enqueue & ((action: () => void) => void) & {
  readonly emit: (event: Event) => void
  readonly sendTo: ((to: string, event: ExecutorCommand | StepActorEvent) => void) & ((to: AnyActorRef, event: MachineEvent) => void)
  readonly raise: (event: MachineEvent) => void
}

/**
 * Carries out what the last inputs left in the run's outbox: its events
 * (a chunk of them: see `EmitQueue`), the step actors it spawns, tells and
 * stops, the starts and resumes for the host, and on a stop the interrupts:
 * through each running step's actor, and directly for the steps handed over
 * that have none yet. Then the run's progress, and what it means for the
 * run's own state.
 */
const settle = (context: RunContext, enqueue: RunEnqueue, self: AnyActorRef, emitTo: ((event: Event) => void) | undefined): void => {
  const { run, actors, emitting } = context
  const outbox = run.takeOutbox()
  if (emitTo !== undefined) deliver(enqueue, outbox.events, emitTo)
  else {
    emitting.add(outbox.events)
    emitting.emit(enqueue, self)
  }
  const host = (self.getSnapshot() as { readonly children: Record<string, AnyActorRef | undefined> }).children.executor
  for (const step of outbox.resumes) if (actors.has(step)) actors.tell(step, run.attempts[step]!)
  actors.commit(enqueue, run, host)
  if (outbox.starts.length > 0) enqueue.sendTo("executor", { type: "executor.start", starts: outbox.starts })
  if (outbox.resumes.length > 0) enqueue.sendTo("executor", { type: "executor.resume", steps: outbox.resumes })
  if (outbox.interrupt) {
    const viaActors = actors.interrupt(enqueue)
    const rest = run.inFlight().filter((step) => !viaActors.has(step))
    if (rest.length > 0) enqueue.sendTo("executor", { type: "executor.interrupt", steps: rest })
  }
  ended(context, enqueue)
}

/**
 * Enqueues one plain action that hands `events` to `emitTo`, then empties
 * the batch: XState keeps the turn's action records (and so this closure)
 * alive for a while, which must not keep every event and log line.
 */
const deliver = (enqueue: RunEnqueue, events: Array<Event>, emitTo: (event: Event) => void): void => {
  if (events.length === 0) return
  enqueue(() => {
    for (let i = 0; i < events.length; i++) emitTo(events[i]!)
    events.length = 0
  })
}

/**
 * Whether a batch of reports needs nothing of the run actor but its events
 * delivered and the next starts sent: no step actor to spawn, tell or stop
 * (none is alive, and every step that starts in it also ends in it), no
 * failure, retry, wait or stop, and the run does not end with it. That is
 * most batches of short steps (no-ops, cache hits), and they then skip
 * `enqueueActions`, whose per-call helpers (a function with nine closures)
 * were 0.2 KB/step of peak memory at 100,000 no-op steps.
 */
const isQuiet = (context: RunContext, updates: ReadonlyArray<StepReport>, emitTo: ((event: Event) => void) | undefined): boolean => {
  const { run, actors } = context
  if (emitTo === undefined || actors.size > 0 || run.stopping !== undefined) return false
  const open = actors.batch
  open.begin()
  let ends = 0
  for (let i = 0; i < updates.length; i++) {
    const update = updates[i]!
    switch (update.type) {
      case "step:start":
        open.add(update.step)
        break
      case "step:end":
        if (update.status !== "succeeded" && update.status !== "cached") return false
        open.delete(update.step)
        ends++
        break
      case "step:waiting":
      case "step:resume":
      case "step:retry":
        return false
      default:
        break
    }
  }
  return open.size === 0 && run.counts.total - run.counts.pending - run.counts.ready - run.counts.running + ends < run.counts.total
}

/** Raises `run.failing` at a fail-fast run's first failure, and `run.ended` once every step ended and every event is out. */
const ended = (context: RunContext, enqueue: RunEnqueue): void => {
  const { run, emitting } = context
  if (!emitting.failing && run.stopping === "failed") {
    emitting.failing = true
    enqueue.raise({ type: "run.failing" })
  }
  if (!emitting.ended && run.finished && emitting.empty) {
    emitting.ended = true
    enqueue.raise({ type: "run.ended" })
  }
}

/**
 * The machine `compile` returns: the run actor's logic, typed by what users
 * read of it (its context, events, output and emitted events). Written out
 * because the inferred type names XState's internal declarations, which a
 * published `.d.ts` cannot (TS2742).
 */
export type RunMachine = StateMachine<RunContext, MachineEvent, Record<string, AnyActorRef | undefined>, any, any, any, string, any, string, unknown, RunResult, Event, any, any>

/**
 * The machine that runs `wf`: the run actor. `createActor(compile(wf)).start()`
 * runs it; its snapshot's `value` is the run's state, `context.steps` every
 * step's status and `context.progress` the counts; each running step is a
 * child actor (`actor.system.get("build")`), and the actor's output is the
 * `RunResult`.
 *
 * @throws DefinitionError when the workflow cannot run.
 * @example
 * const actor = createActor(compile(wf), { inspect: (event) => console.log(event.type) })
 * actor.on("*", (event) => console.log(event.type))
 * actor.start()
 */
export const compile = (wf: Workflow<any>, options: CompileOptions = {}): RunMachine => {
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

  const machine = setup({
    types: {} as {
      context: RunContext
      events: MachineEvent
      emitted: Event
      output: RunResult
    },
    actors: { executor, step: stepLogic }
  })
  const withRun = <E extends MachineEvent>(change: (context: RunContext, event: E) => void) =>
    machine.enqueueActions(({ context, event, enqueue, self }) => {
      change(context, event as E)
      settle(context, enqueue as unknown as RunEnqueue, self, options.emitTo)
    })
  const begin = withRun<Extract<MachineEvent, { type: "executor.ready" }>>(({ run }, event) => run.begin(event.time))
  const apply = withRun<Extract<MachineEvent, { type: "executor.updates" }>>(({ run, actors }, event) => {
    const updates = event.updates
    for (let i = 0; i < updates.length; i++) {
      run.apply(updates[i]!)
      tellActor(actors, run, updates[i]!)
    }
    consume(event.updates)
  })
  const cancel = withRun(({ run }) => run.cancel(now()))
  const flush = machine.enqueueActions(({ context, enqueue, self }) => {
    context.emitting.flushed()
    context.emitting.emit(enqueue as unknown as RunEnqueue, self)
    ended(context, enqueue as unknown as RunEnqueue)
  })
  // The last events (`run:end`): few, so emitted at once.
  const finish = machine.enqueueActions(({ context, enqueue }) => {
    context.run.finish(now())
    const events = context.run.takeOutbox().events
    if (options.emitTo !== undefined) deliver(enqueue as unknown as RunEnqueue, events, options.emitTo)
    else for (const event of events) enqueue.emit(event)
  })
  const ending = [
    { guard: ({ context }: { readonly context: RunContext }) => context.run.outcome === "cancelled", target: "cancelled" },
    { guard: ({ context }: { readonly context: RunContext }) => context.run.outcome === "failed", target: "failed" },
    { target: "succeeded" }
  ]
  // The quiet path (see `isQuiet`): a plain action, then a `sendTo` built once.
  const applyQuietly = machine.createAction(({ context, event }) => {
    const { run } = context
    const updates = (event as Extract<MachineEvent, { type: "executor.updates" }>).updates
    // Indexed loops: a cold process runs these unoptimized for a while, where \`for of\` allocates.
    for (let i = 0; i < updates.length; i++) run.apply(updates[i]!)
    consume(updates)
    const outbox = run.takeOutbox()
    const events = outbox.events
    for (let i = 0; i < events.length; i++) options.emitTo!(events[i]!)
    outbox.events.length = 0
    if (outbox.resumes.length > 0 || outbox.interrupt || run.finished) throw new Error("weft bug: a batch taken as quiet asked for more than starts")
    context.actors.next = { type: "executor.start", starts: outbox.starts }
  })
  const startNext = machine.sendTo("executor", ({ context }) => context.actors.takeNext())
  const reports = {
    "executor.updates": [
      { guard: ({ context, event }: { readonly context: RunContext; readonly event: MachineEvent }) => isQuiet(context, (event as Extract<MachineEvent, { type: "executor.updates" }>).updates, options.emitTo), actions: [applyQuietly, startNext] },
      { actions: apply }
    ],
    "run.flush": { actions: flush },
    "run.ended": ending
  }

  return machine.createMachine({
    id: wf.name,
    context: () => {
      const run = new RunState(plan, { concurrency: limits.slots, commandConcurrency: limits.commands, failFast, runId, permissionsOff: options.allowAll === true, memoHitRate: alerts.memoHitRate })
      return { steps: run.byId, progress: run.counts, run, actors: new StepActors(plan.ids.length), emitting: new EmitQueue() }
    },
    // The host: it runs the steps' fibers until the run reaches a final state.
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
    initial: "starting",
    states: {
      starting: {
        on: {
          "executor.ready": { target: "running", actions: begin },
          cancel: { target: "cancelling", actions: cancel }
        }
      },
      running: {
        on: { ...reports, cancel: { target: "cancelling", actions: cancel }, "run.failing": { target: "failing" } }
      },
      failing: {
        on: { ...reports, cancel: { target: "cancelling", actions: cancel } }
      },
      cancelling: {
        // A run cancelled before it began begins stopped: every step ends cancelled.
        on: { ...reports, "executor.ready": { actions: begin } }
      },
      succeeded: { type: "final", entry: finish },
      failed: { type: "final", entry: finish },
      cancelled: { type: "final", entry: finish }
    },
    output: ({ context }) => context.run.result!
  })
}
