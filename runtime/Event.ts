/**
 * The one stream every reporter reads. Each event carries `time`, in
 * milliseconds since the run started (virtual time under `TestClock`).
 *
 * The union is closed: consumers switch over `type` exhaustively and end in
 * `unreachable(event)`, so adding an event is a compile error everywhere it
 * must be handled.
 */
import type { EndStatus } from "./StepStatus.ts"

export type RunStatus = "succeeded" | "failed" | "cancelled"

/** A step as announced by `run:start`: its id and the ids it waits for (needs and after). */
export interface StepInfo {
  readonly id: string
  readonly deps: ReadonlyArray<string>
  /** How long the step should take (ms): its recent median from history, else its `estimate`; absent when unknown. */
  readonly estimateMs?: number
  /** The rate limit each attempt waits for (a key of `run:start`'s `rateLimits`), if any. */
  readonly rateLimit?: string
  /** What it holds while it runs, of `run:start`'s `resources`, if anything. */
  readonly resources?: Readonly<Record<string, number>>
}

/** A rate limit as `run:start` announces it: at most `limit` starts in any `perMs`. */
export interface RateLimitInfo {
  readonly limit: number
  readonly perMs: number
}

export type LogStream = "stdout" | "stderr" | "log"

export type Event =
  /** `run` is the run's id (`20261125-225447-3f2a`): it names the run's history record, report and log folder. */
  /** `permissionsOff`: the run was started with `--allow-all` (`allowAll`), so every step sees the whole environment. */
  /** `rateLimits` and `resources` (capacities) are the workflow's, when it declares any: what the steps' own fields name; `resources` also has `commands`, the command limit, when it binds (each command step holding one). */
  | {
    readonly type: "run:start"
    readonly time: number
    readonly run: string
    readonly workflow: string
    readonly steps: ReadonlyArray<StepInfo>
    /** Steps of any kind that may run at at once (see `concurrency.ts`). */
    readonly concurrency: number
    /** Command steps that may run at once, within `concurrency` (the CPU count unless set). */
    readonly commandConcurrency?: number
    readonly permissionsOff?: true
    readonly rateLimits?: Readonly<Record<string, RateLimitInfo>>
    readonly resources?: Readonly<Record<string, number>>
  }
  | { readonly type: "step:ready"; readonly time: number; readonly step: string }
  /** `worker`: the worker (`weft worker --name`) running the attempt, when the run has workers. */
  | { readonly type: "step:start"; readonly time: number; readonly step: string; readonly attempt: number; readonly worker?: string }
  | { readonly type: "step:log"; readonly time: number; readonly step: string; readonly stream: LogStream; readonly text: string; readonly replayed?: true }
  /**
   * A part of a streaming step's result (`ctx.emit(part)`, or each item of a
   * returned AsyncIterable / Effect Stream), in order: `index` counts from 0.
   * `text` is the part as shown (strings as they are, other values inspected).
   */
  | { readonly type: "step:partial"; readonly time: number; readonly step: string; readonly index: number; readonly text: string; readonly replayed?: true }
  | { readonly type: "step:progress"; readonly time: number; readonly step: string; readonly done: number; readonly total?: number; readonly message?: string }
  /**
   * A step is held back before an attempt starts: `reason` says by what, like
   * "rate limit openai". Its `step:start` follows when it may go.
   */
  /**
   * The step waits (`reason`: "rate limit openai"). A running step waiting
   * inside its body (a memoized call's rate limit) says `over` when the wait
   * ends; a step waiting to start ends its wait with `step:start`. `releases`:
   * the step gave its concurrency slot back for the wait.
   */
  | { readonly type: "step:waiting"; readonly time: number; readonly step: string; readonly reason: string; readonly over?: true; readonly releases?: true }
  /**
   * An attempt failed and another follows after `delayMs`. `error` names the
   * failure in one short line (a command by its exit and last stderr line);
   * `reason` is the whole of it, when that is longer (the step's log file keeps it).
   */
  | { readonly type: "step:retry"; readonly time: number; readonly step: string; readonly attempt: number; readonly error: string; readonly reason?: string; readonly delayMs: number }
  /**
   * A memoized call answered. A miss of a batched function (`memo.batched`)
   * has `keys`: how many keys the one call it was sent in carried.
   */
  | { readonly type: "step:memo"; readonly time: number; readonly step: string; readonly name: string; readonly outcome: "hit" | "coalesced" | "miss"; readonly savedMs: number; readonly keys?: number }
  /** `optional`: the step that failed is optional (`optional: true`), so its dependents ran and the run goes on. */
  | { readonly type: "step:end"; readonly time: number; readonly step: string; readonly status: EndStatus; readonly durationMs: number; readonly attempts: number; readonly error?: string; readonly savedMs?: number; readonly optional?: true }
  /** `step`: the step it is about, when it is about one (an alert that it runs long). */
  | { readonly type: "run:warning"; readonly time: number; readonly message: string; readonly step?: string }
  | { readonly type: "run:end"; readonly time: number; readonly status: RunStatus; readonly durationMs: number }

export type EventType = Event["type"]

/** The event of a given `type`. */
export type EventOf<T extends EventType> = Extract<Event, { readonly type: T }>

/** Marks a branch the type checker proved impossible; reaching it is a bug in weft. */
export const unreachable = (value: never): never => {
  throw new Error(`weft: unreachable: ${JSON.stringify(value)}`)
}
