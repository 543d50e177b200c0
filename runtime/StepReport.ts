/**
 * What a step tells the run while it runs: the one shape a step's body, its
 * stages and its executor report in, discriminated by `type` with the names
 * of the run's own `Event`s. Each report carries the step's index and the
 * absolute time it happened; `RunState.apply` turns it into the `Event` a
 * reporter sees (`step` by id, `time` since the run started). There is no
 * third shape: how a step ended is its `step:end` report, by `status`.
 */
import type { LogStream } from "./Event.ts"

/** How a step's fiber ended, as `step:end` carries it. */
export type StepEnding =
  | { readonly status: "succeeded"; readonly value: unknown }
  | { readonly status: "cached"; readonly value: unknown; readonly savedMs: number }
  | { readonly status: "failed"; readonly error: string }
  | { readonly status: "cancelled" }

/** A report about step `step` (its index in the plan), stamped with the absolute `time` it happened. */
export type StepReport =
  | { readonly type: "step:start"; readonly step: number; readonly time: number; readonly attempt: number; readonly worker?: string | undefined }
  | { readonly type: "step:log"; readonly step: number; readonly time: number; readonly stream: LogStream; readonly text: string; readonly replayed?: true }
  /** Several lines at once, as a command's output chunk (or a replay) brings them: one `step:log` event each. */
  | { readonly type: "step:logs"; readonly step: number; readonly time: number; readonly stream: LogStream; readonly texts: ReadonlyArray<string>; readonly replayed?: true }
  /** A part of a streaming result: `index` counts from 0 per attempt; `text` is already bounded (see `partText`). */
  | { readonly type: "step:partial"; readonly step: number; readonly time: number; readonly index: number; readonly text: string; readonly replayed?: true }
  | { readonly type: "step:progress"; readonly step: number; readonly time: number; readonly done: number; readonly total?: number | undefined; readonly message?: string | undefined }
  /**
   * The step waits (for a rate limit, say). With `releases`, it gives its
   * concurrency slot back for the wait, and asks for it again with `step:resume`.
   */
  | { readonly type: "step:waiting"; readonly step: number; readonly time: number; readonly reason: string; readonly releases?: true; readonly over?: true }
  /** A step that released its slot to wait wants one again: the run hands it over (`executor.resume`) as soon as one is free. */
  | { readonly type: "step:resume"; readonly step: number; readonly time: number }
  | { readonly type: "step:retry"; readonly step: number; readonly time: number; readonly attempt: number; readonly error: string; readonly reason?: string | undefined; readonly delayMs: number }
  | { readonly type: "step:memo"; readonly step: number; readonly time: number; readonly name: string; readonly outcome: "hit" | "coalesced" | "miss"; readonly savedMs: number; readonly keys?: number | undefined }
  /** About the run rather than one step when `step` is -1 (the cache store found a corrupt entry, say). */
  | { readonly type: "run:warning"; readonly step: number; readonly time: number; readonly message: string }
  | ({ readonly type: "step:end"; readonly step: number; readonly time: number; readonly attempts: number } & StepEnding)

export type StepReportType = StepReport["type"]

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** A report as a step makes it: the executor stamps `step` and `time`. */
export type StepReportBody = DistributiveOmit<StepReport, "step" | "time">
