import * as Duration from "effect/Duration"

/** Milliseconds of a duration input, or `undefined` when it is not one (`"30 secs"`, `{}`, NaN). */
export const toMillis = (input: unknown): number | undefined => {
  try {
    const ms = Duration.toMillis(Duration.fromInputUnsafe(input as Duration.Input))
    return Number.isNaN(ms) ? undefined : ms
  } catch {
    return undefined
  }
}
