/**
 * Reporters turn the event stream into something to read. They depend only on
 * `Event` and `RunResult`, never on the engine.
 */
import type { Event } from "./Event.ts"
import type { RunResult } from "./RunState.ts"
import type { WatchEvent } from "./watch/WatchEvent.ts"

export interface Reporter {
  /** Called for every event, in order. */
  onEvent(event: Event): void
  /** Called once after `run:end`; flush anything buffered here. */
  onEnd?(result: RunResult): void | Promise<void>
  /** Called in watch mode, between and around runs (see `WatchEvent`). */
  onWatch?(event: WatchEvent): void
  /** Called once when the reporter is no longer needed (watch mode quits): restore the terminal, stop timers. */
  close?(): void | Promise<void>
}

/** Where a reporter writes. */
export type Write = (text: string) => void

/** A reporter that shows nothing. */
export const silent: Reporter = { onEvent: () => {} }
