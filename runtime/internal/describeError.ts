/** A one-line, user-facing description of whatever a step threw or failed with. */
export const describeError = (error: unknown): string => {
  if (error instanceof Error) return error.message || error.name
  if (typeof error === "string") return error
  if (typeof error === "object" && error !== null) {
    const message = (error as { message?: unknown }).message
    if (typeof message === "string") return message
    try {
      return JSON.stringify(error)
    } catch {
      return String(error)
    }
  }
  return String(error)
}

/** How long `shortError` lets a line be. */
const shortLength = 120

/**
 * What a step failed with, in one short line, for a message that goes on:
 * "attempt 1 failed: exited with code 3: connection refused; retrying in 2 s".
 * A failed command is named by its exit and its last line on stderr, not by
 * its script, which can fill a screen; anything else by its first line. The
 * whole of it is `describeError`'s. `redact` masks secrets before the cut,
 * so that no secret is cut in two and shown in part.
 */
export const shortError = (error: unknown, redact: (text: string) => string = (text) => text): string => {
  const text = redact(isCommandFailure(error) ? commandLine(error) : describeError(error).split("\n", 1)[0]!)
  return text.length <= shortLength ? text : `${text.slice(0, shortLength - 1)}…`
}

interface CommandFailure {
  readonly _tag: "CommandError"
  readonly exitCode: number | null
  readonly signal: string | null
  readonly stderrTail: ReadonlyArray<string>
  readonly reason?: string | undefined
}

// By its tag, not `instanceof`: `Process.ts` is not loaded to describe an error.
const isCommandFailure = (u: unknown): u is CommandFailure =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "CommandError" && Array.isArray((u as { stderrTail?: unknown }).stderrTail)

const commandLine = (error: CommandFailure): string => {
  const head = error.reason ?? (error.signal !== null ? `killed by ${error.signal}` : `exited with code ${error.exitCode}`)
  const last = error.stderrTail.findLast((line) => line.trim() !== "")
  return last === undefined ? head : `${head}: ${last.trim()}`
}
