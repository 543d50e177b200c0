/** How the runtime waits between attempts; the `retry` option itself is checked and resolved in dsl/retryOptions.ts. */
import { toMillis } from "../../dsl/duration.ts"
import type { RetryPolicy } from "../../dsl/retryOptions.ts"

/** The delay before retry number `retry` (1 for the first retry): exponential, capped. */
export const retryDelay = (policy: RetryPolicy, retry: number): number =>
  Math.min(policy.delayMs * policy.factor ** (retry - 1), policy.maxDelayMs)

/**
 * How long a failed attempt's error asks to wait before the next one, from its
 * `retryAfter` property (what a 429 or 503 answer says): a number of
 * milliseconds; a string of seconds, as in an HTTP `Retry-After` header
 * ("120"); a duration ("2 seconds", or an Effect `Duration`); or an HTTP date,
 * waited for until then by `now`. `undefined` when the error gives none that
 * reads as one of these.
 */
export const retryAfterMs = (error: unknown, now: number): number | undefined => {
  if (typeof error !== "object" || error === null || !("retryAfter" in error)) return undefined
  const value = (error as { readonly retryAfter: unknown }).retryAfter
  let ms: number | undefined
  if (typeof value === "string" && /^\s*\d+(\.\d+)?\s*$/.test(value)) ms = Number(value) * 1000
  else ms = toMillis(value)
  if (ms === undefined && typeof value === "string") {
    const date = Date.parse(value)
    if (!Number.isNaN(date)) ms = Math.max(0, date - now)
  }
  return ms === undefined || !(ms >= 0) || ms === Infinity ? undefined : ms
}
