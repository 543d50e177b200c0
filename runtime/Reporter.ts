/**
 * Reporters turn the event stream into something to read. They depend only on
 * `Event` and `RunResult`, never on the engine.
 */
import type { Event } from "./Event.ts"
import type { RunResult } from "./RunState.ts"
import type { WatchEvent } from "./watch/WatchEvent.ts"

/**
 * What weft itself prints goes through these, not `process.stdout.write`,
 * which a run patches to route a step's direct writes into its log.
 */
export { reservingStdout, unpatchedStdout, writeStderr, writeStdout } from "./internal/writeCapture.ts"

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

/**
 * One reporter that hands everything to several: the screen and the log
 * files, say. Events reach them in the order given; `onEnd` and `close` wait
 * for all of them, and one that throws does not keep the others from
 * flushing (its error is rethrown after).
 *
 * @example
 * run(wf, { reporter: tee(plain(), logFiles({ dir: ".weft/logs" })) })
 */
export const tee = (...reporters: ReadonlyArray<Reporter>): Reporter => {
  const all = async (call: (r: Reporter) => void | Promise<void>) => {
    const settled = await Promise.allSettled(reporters.map(async (r) => call(r)))
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected")
    if (failed !== undefined) throw failed.reason
  }
  return {
    onEvent: (event) => {
      for (const r of reporters) r.onEvent(event)
    },
    onEnd: (result) => all((r) => r.onEnd?.(result)),
    onWatch: (event) => {
      for (const r of reporters) r.onWatch?.(event)
    },
    close: () => all((r) => r.close?.())
  }
}
