/**
 * How a command that runs a workflow hears Ctrl-C (and SIGTERM, SIGHUP): the
 * first signal says so and aborts, so the run tears its steps' processes
 * down and the command ends with the signal's exit code; a second one does
 * not wait for the teardown. `weft run` and `weft verify` share it, so that
 * both stop the same way.
 */
import { killAllGroups } from "../runtime/Process.ts"
import type { Io } from "./common.ts"

/** The signals that cancel a run: a second one forces the exit. SIGHUP: the terminal closed; the run ends as on SIGTERM rather than weft dying at once. */
export const handled: ReadonlyArray<NodeJS.Signals> = ["SIGINT", "SIGTERM", "SIGHUP"]

/** The exit code of a run ended by `signal`: 128 + its number, as a shell reports it. */
export const signalExitCode = (signal: NodeJS.Signals): number => signal === "SIGTERM" ? 143 : signal === "SIGHUP" ? 129 : 130

export interface Interruption {
  /** Aborted at the first signal. */
  readonly signal: AbortSignal
  /** The first signal received, if any. */
  readonly by: () => NodeJS.Signals | undefined
  /** What a signal does; also called for a Ctrl-C the dashboard read as a key. */
  readonly onSignal: (signal: NodeJS.Signals) => void
  /** Starts listening on `io.signals`; returns the function that stops. */
  readonly listen: () => () => void
}

/** `cancelling` ends the first signal's message: `cancelling running steps`. */
export const makeInterruption = (io: Io, cancelling: string): Interruption => {
  const controller = new AbortController()
  let by: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (by !== undefined) {
      // Second signal: do not wait for graceful teardown.
      killAllGroups("SIGKILL")
      io.stderr("weft: forced exit\n")
      process.exit(signalExitCode(signal))
    }
    by = signal
    io.stderr(`\nweft: ${signal === "SIGINT" ? "Ctrl-C" : signal}: ${cancelling} (press Ctrl-C again to force)\n`)
    controller.abort()
  }
  return {
    signal: controller.signal,
    by: () => by,
    onSignal,
    listen: () => {
      for (const name of handled) io.signals?.on(name, onSignal)
      return () => {
        for (const name of handled) io.signals?.off(name, onSignal)
      }
    }
  }
}
