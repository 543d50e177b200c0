import type { LogStream } from "../Event.ts"

/** How a step's fiber ended, as the machine needs to know it. */
export type Outcome =
  | { readonly _tag: "succeeded"; readonly value: unknown }
  | { readonly _tag: "failed"; readonly error: string }
  | { readonly _tag: "cancelled" }

/**
 * What the executor tells the machine about a step, stamped with the absolute
 * time it happened. The machine turns these into `Event`s.
 */
export type Update =
  | { readonly kind: "start"; readonly step: number; readonly time: number; readonly attempt: number }
  | { readonly kind: "log"; readonly step: number; readonly time: number; readonly stream: LogStream; readonly text: string }
  | { readonly kind: "progress"; readonly step: number; readonly time: number; readonly done: number; readonly total?: number | undefined; readonly message?: string | undefined }
  | { readonly kind: "retry"; readonly step: number; readonly time: number; readonly attempt: number; readonly error: string; readonly delayMs: number }
  | { readonly kind: "end"; readonly step: number; readonly time: number; readonly attempts: number; readonly outcome: Outcome }
