/**
 * The `retry` option: its definition check and what it resolves to. How the
 * runtime waits between attempts (`retryDelay`, `retryAfterMs`) is the
 * runtime's own (runtime/internal/retry.ts).
 */
import { toMillis } from "./duration.ts"
import type { RetryOption } from "./Step.ts"

/** A retry option resolved to numbers. */
export interface RetryPolicy {
  readonly times: number
  readonly delayMs: number
  readonly factor: number
  readonly maxDelayMs: number
}

/**
 * The backoff of `retry: n` and of `{ times }` without a delay: 1 s before the
 * first retry, twice as long before each next one, at most 30 s (1, 2, 4, 8,
 * 16, 30, 30 … s). A step is retried because something outside it failed (a
 * network, a busy service, a flaky test runner), which rarely recovers within
 * milliseconds; 30 s keeps a step with many retries from sleeping for
 * minutes. No jitter: the retries of one run are few and would not stampede a
 * service together, and a fixed schedule keeps runs reproducible on virtual
 * time. A failure that says how long to wait (`retryAfter`) is waited for.
 */
export const defaultRetry = { delayMs: 1000, factor: 2, maxDelayMs: 30_000 } as const

const none: RetryPolicy = { times: 0, ...defaultRetry }

/** Resolves a retry option, or says what is wrong with it. */
export const retryPolicy = (option: RetryOption | undefined): RetryPolicy | string => {
  if (option === undefined) return none
  const o = typeof option === "number" ? { times: option } : option
  if (typeof o !== "object" || o === null) return `retry must be a number of retries or { times, delay, factor, maxDelay }, not ${JSON.stringify(option)}`
  if (!Number.isInteger(o.times) || o.times < 0) return `retry times must be a whole number of at least 0, not ${JSON.stringify(o.times)}`
  const delayMs = o.delay === undefined ? defaultRetry.delayMs : toMillis(o.delay)
  // The default cap never shortens a longer first delay the step asked for.
  const maxDelayMs = o.maxDelay === undefined ? Math.max(defaultRetry.maxDelayMs, delayMs ?? 0) : toMillis(o.maxDelay)
  const factor = o.factor ?? defaultRetry.factor
  if (delayMs === undefined || delayMs < 0) return `retry delay ${JSON.stringify(o.delay)} is not a duration: use milliseconds or a string like "1 second"`
  if (maxDelayMs === undefined || maxDelayMs < 0) return `retry maxDelay ${JSON.stringify(o.maxDelay)} is not a duration`
  if (typeof factor !== "number" || !(factor >= 1)) return `retry factor must be a number of at least 1, not ${JSON.stringify(o.factor)}`
  return { times: o.times, delayMs, factor, maxDelayMs }
}
