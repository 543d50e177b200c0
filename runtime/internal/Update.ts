import type { LogStream } from "../Event.ts"

/** How a step's fiber ended, as the machine needs to know it. */
export type Outcome =
  | { readonly _tag: "succeeded"; readonly value: unknown }
  | { readonly _tag: "cached"; readonly value: unknown; readonly savedMs: number }
  | { readonly _tag: "failed"; readonly error: string }
  | { readonly _tag: "cancelled" }

/**
 * What the executor tells the machine about a step, stamped with the absolute
 * time it happened. The machine turns these into `Event`s.
 */
export type Update =
  | { readonly kind: "start"; readonly step: number; readonly time: number; readonly attempt: number }
  | { readonly kind: "log"; readonly step: number; readonly time: number; readonly stream: LogStream; readonly text: string; readonly replayed?: true }
  /** Several lines at once, as a command's output chunk (or a replay) brings them: one `step:log` each. */
  | { readonly kind: "logs"; readonly step: number; readonly time: number; readonly stream: LogStream; readonly texts: ReadonlyArray<string>; readonly replayed?: true }
  /** A part of a streaming result: `index` counts from 0 per attempt; `text` is already bounded (see `partText`). */
  | { readonly kind: "partial"; readonly step: number; readonly time: number; readonly index: number; readonly text: string; readonly replayed?: true }
  | { readonly kind: "progress"; readonly step: number; readonly time: number; readonly done: number; readonly total?: number | undefined; readonly message?: string | undefined }
  /**
   * The step waits (for a rate limit, say). With `releases`, it gives its
   * concurrency slot back for the wait, and asks for it again with `resume`.
   */
  | { readonly kind: "waiting"; readonly step: number; readonly time: number; readonly reason: string; readonly releases?: true; readonly over?: true }
  /** A step that released its slot to wait wants one again: the executor hands it over (`executor.resume`) as soon as one is free. */
  | { readonly kind: "resume"; readonly step: number; readonly time: number }
  | { readonly kind: "retry"; readonly step: number; readonly time: number; readonly attempt: number; readonly error: string; readonly reason?: string | undefined; readonly delayMs: number }
  | { readonly kind: "memo"; readonly step: number; readonly time: number; readonly name: string; readonly outcome: "hit" | "coalesced" | "miss"; readonly savedMs: number; readonly keys?: number | undefined }
  /** Not about one step (`step` is -1): the cache store found a corrupt entry, say. */
  | { readonly kind: "warning"; readonly step: number; readonly time: number; readonly message: string }
  | { readonly kind: "end"; readonly step: number; readonly time: number; readonly attempts: number; readonly outcome: Outcome }
