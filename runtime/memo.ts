/**
 * Memoized calls: `memo(name, fn)` wraps an async function (a tool call, an
 * HTTP request) so that every step of a run, and later runs sharing a cache
 * store within the TTL, share its results.
 *
 * How a call is answered, in order:
 *
 *   call ──▶ remembered by the scope, not expired? ──yes──▶ hit (a structured-clone copy)
 *              │ no
 *              ▼
 *            same key in flight? ──yes──▶ coalesced (waits for it, same value or same error)
 *              │ no
 *              ▼
 *            store has a live entry? ──yes──▶ hit (remembered from now on)
 *              │ no
 *              ▼
 *            miss: calls `fn`; success is remembered and stored, an error is not
 *
 * `memo.batched` ({@link batched}) answers each key of a many-key function the
 * same way, except that a miss is not called at once: it waits in a batching
 * window, and when the window closes the store is asked for its keys and the
 * rest are sent in one call. A key is in flight from the moment it is asked
 * for, so the same key asked again in the window is coalesced, not sent twice.
 * This is Effect's `Request`/`RequestResolver` model (a pending batch per
 * resolver, a delay, `batchN`, every request completed or failed) in Promise
 * form: memoized functions are plain async functions called from steps'
 * Promise code, timed by the scope's `now`, not fibers on Effect's clock.
 *
 * A scope ({@link MemoScope}) holds what is shared: the remembered results,
 * the batching windows, the calls in flight, the store and the statistics.
 * The engine runs each step under the run's scope; outside any, a
 * process-wide in-memory scope is used, so coalescing works in plain scripts
 * too.
 */
import { createHash } from "node:crypto"
import type * as Duration from "effect/Duration"
import { canonicalHash, isUnhashableValueError } from "./cache/canonical.ts"
import { toMillis } from "../dsl/duration.ts"
import { makeMemoScope, type BatchSpec, type MemoScope } from "./MemoScope.ts"
import { currentStepScope, withMemo } from "./internal/stepScope.ts"

export { makeMemoScope, MemoScope, type MemoEvent, type MemoScopeOptions, type MemoStats } from "./MemoScope.ts"

/** Options of {@link memo}. */
export interface MemoOptions<A extends ReadonlyArray<unknown>> {
  /** How long a result is reused ("10 minutes", or milliseconds). Absent: until the store is pruned. */
  readonly ttl?: Duration.Input
  /**
   * What identifies a call instead of all its arguments: leave out what does
   * not change the result (an `AbortSignal`, a logger, a client object).
   */
  readonly key?: (...args: A) => unknown
  /**
   * A rate limit of the workflow (a name in its `rateLimits`) every real call
   * waits for: hits and joined calls do not. Outside a run, there is none to wait for.
   */
  readonly rateLimit?: string
}

/**
 * `A`, but not inferred from here: the arguments are `fn`'s, and a `key` taking
 * fewer still type-checks. (`NoInfer<A>` would reject such a `key`: it compares
 * the rest tuples whole.)
 */
type Later<A> = [A][A extends unknown ? 0 : never]

/** Used outside any {@link withMemoScope}: in memory, for the life of the process. */
export const defaultMemoScope: MemoScope = makeMemoScope()

/** The scope memoized calls made here use: the innermost {@link withMemoScope}, else {@link defaultMemoScope}. */
export const currentMemoScope = (): MemoScope => currentStepScope()?.memo?.scope ?? defaultMemoScope

/**
 * Runs `f` with `scope` current, so memoized calls made in it (and in what it
 * awaits) share that scope; `step` attributes them to a step.
 *
 * @example
 * await withMemoScope(scope, () => body(), { step: "fetch" })
 */
export const withMemoScope = <T>(scope: MemoScope, f: () => T, options: { readonly step?: string } = {}): T =>
  withMemo({ scope, step: options.step }, f)

/** Runs `f` with memoized calls attributed to `step`, in the current scope. */
export const withMemoStep = <T>(step: string, f: () => T): T => withMemo({ scope: currentMemoScope(), step }, f)

const memoOne = <A extends ReadonlyArray<unknown>, R>(
  name: string,
  fn: (...args: A) => Promise<R> | R,
  options: MemoOptions<Later<A>> = {}
): ((...args: A) => Promise<R>) => {
  if (typeof name !== "string" || name === "") throw new TypeError("memo: the name must be a non-empty string")
  if (typeof fn !== "function") throw new TypeError(`memo("${name}"): the second argument must be the function to memoize`)
  const ttlMs = ttlOf(`memo("${name}")`, options.ttl)
  const rateLimit = rateLimitOf(`memo("${name}")`, options.rateLimit)
  const keyOf = options.key
  const source = sourceDigest(fn)
  return (...args: A): Promise<R> => {
    let key: string
    try {
      key = identify(`memo("${name}")`, name, source, args, keyOf)
    } catch (error) {
      return Promise.reject(error)
    }
    return currentMemoScope().call(name, key, () => fn(...args), ttlMs, rateLimit, currentStepScope()?.memo?.step) as Promise<R>
  }
}

/** Options of {@link batched}. */
export interface BatchedOptions<K> {
  /** How long each key's value is reused ("10 minutes", or milliseconds). Absent: until the store is pruned. */
  readonly ttl?: Duration.Input
  /** What identifies a key, when not all of it changes the value (as `memo`'s `key`). */
  readonly key?: (key: K) => unknown
  /** The most keys sent in one call (default: no limit); a window that fills up is sent at once. */
  readonly maxBatch?: number
  /**
   * How long calls are collected after the first ("20 millis"). Absent: until
   * the next turn of the event loop (`setImmediate`), which gathers the calls
   * of steps that started together without delaying any.
   */
  readonly window?: Duration.Input
  /** A rate limit of the workflow every batch call waits for (as `memo`'s `rateLimit`): one turn per call, however many keys. */
  readonly rateLimit?: string
}

/**
 * Wraps a function that takes many keys at once (`(keys) => values`, one value
 * per key, in order) as a function of one key, so calls made by different steps
 * at about the same time become one call with their distinct keys. It is
 * `memo` per key: a key already answered is a hit and is not sent, one in
 * flight (batched or not) is joined, and each value is remembered and stored
 * on its own, so a later call of the same key is a hit. A key is identified as
 * `memo(name, (key) => …)` identifies its argument, with the batch function's
 * own text: a plain `memo` of the same name is another function, and the two
 * share no results.
 *
 * Calls are collected in a window (see {@link BatchedOptions.window}); when it
 * closes, keys found in the store are answered from it and the rest are sent
 * together, at most `maxBatch` per call. If the call fails, or returns an array
 * of another length than its keys, every caller of that batch gets the error
 * and nothing is remembered. The function runs in the context of the call that
 * opened the window (its step's console).
 *
 * `step:memo` events are per key, attributed to the step that asked for it.
 * A batched miss reports the whole call's `durationMs`; the key is remembered
 * as costing its share (duration ÷ keys sent), which later hits report as
 * `savedMs`, so hits on every key of a batch save one batch call, not n.
 *
 * @example
 * const getPrice = memo.batched("get_prices", (tickers: Array<string>) => api.prices(tickers), { maxBatch: 50 })
 * const [a, b] = await Promise.all([getPrice("AAPL"), getPrice("MSFT")]) // one request: ["AAPL", "MSFT"]
 */
export const batched = <K, V>(
  name: string,
  fn: (keys: Array<K>) => Promise<ReadonlyArray<V>> | ReadonlyArray<V>,
  options: BatchedOptions<NoInfer<K>> = {}
): ((key: K) => Promise<V>) => {
  if (typeof name !== "string" || name === "") throw new TypeError("memo.batched: the name must be a non-empty string")
  const label = `memo.batched("${name}")`
  if (typeof fn !== "function") throw new TypeError(`${label}: the batch function must be a function from an array of keys to an array of values`)
  const ttlMs = ttlOf(label, options.ttl)
  const maxBatch = options.maxBatch ?? Infinity
  if (maxBatch !== Infinity && !(Number.isSafeInteger(maxBatch) && maxBatch >= 1)) {
    throw new TypeError(`${label}: maxBatch ${JSON.stringify(options.maxBatch)} is not a number of keys (try 50, or leave it out for no limit)`)
  }
  const windowMs = options.window === undefined ? undefined : toMillis(options.window)
  if (options.window !== undefined && (windowMs === undefined || windowMs < 0 || windowMs === Infinity)) {
    throw new TypeError(`${label}: window ${JSON.stringify(options.window)} is not a duration (try "20 millis" or a number of milliseconds)`)
  }
  const rateLimit = rateLimitOf(label, options.rateLimit)
  const spec: BatchSpec = { name, invoke: (items) => fn(items as Array<K>), maxBatch, windowMs, ttlMs, rateLimit }
  const keyOf = options.key
  const source = sourceDigest(fn)
  return (item: K): Promise<V> => {
    let key: string
    try {
      key = identify(label, name, source, [item], keyOf)
    } catch (error) {
      return Promise.reject(error)
    }
    return currentMemoScope().callBatched(spec, key, item, currentStepScope()?.memo?.step) as Promise<V>
  }
}

/**
 * Wraps `fn` so identical calls (same `name`, same canonical arguments) share
 * one result: concurrent ones join the call in flight, later ones reuse its
 * result until `ttl` passes, in this run and, through the run's cache store,
 * in later ones. Errors are never remembered: every waiter gets the error and
 * the next call tries again. `memo.batched` (see {@link batched}) does the same
 * for a function of many keys, sending the keys asked for together in one call.
 *
 * The name and the function's own text (`fn.toString()`) identify it across
 * runs: two `memo`s with one name and one body share results, and editing the
 * body makes its earlier results unreachable (an edit to a helper it calls is
 * not seen: put a version in `key` for that). A hit returns a structured-clone copy of the result (a class
 * instance comes back a plain object: return plain data); calls that joined
 * one in flight get the very value its caller got. A result structured clone
 * refuses (a function, a socket) is returned but never reused. The call runs
 * with its first caller's arguments: pass an `AbortSignal` as an argument left
 * out by `key`, and know that aborting it fails every caller waiting on it.
 *
 * @example
 * const getProfile = memo("get_company_profile", (ticker: string) => api.profile(ticker), { ttl: "10 minutes" })
 * const [a, b] = await Promise.all([getProfile("ACME"), getProfile("ACME")]) // one request
 */
export const memo: typeof memoOne & { readonly batched: typeof batched } = Object.assign(memoOne, { batched })

/** A `rateLimit` option, checked when the function is defined (its name against the workflow's limits when called in a run). */
const rateLimitOf = (label: string, rateLimit: unknown): string | undefined => {
  if (rateLimit === undefined) return undefined
  if (typeof rateLimit !== "string" || rateLimit === "") {
    throw new TypeError(`${label}: rateLimit ${JSON.stringify(rateLimit)} must name one of the workflow's rateLimits, like rateLimit: "openai"`)
  }
  return rateLimit
}

/** Milliseconds of a `ttl` option, checked when the function is defined. */
const ttlOf = (label: string, ttl: Duration.Input | undefined): number | undefined => {
  if (ttl === undefined) return undefined
  const ms = toMillis(ttl)
  if (ms === undefined || ms < 0) throw new TypeError(`${label}: ttl ${JSON.stringify(ttl)} is not a duration (try "10 minutes" or a number of milliseconds)`)
  return ms
}

/**
 * The digest of a memoized function's own text, part of every key of its
 * calls (as a step's source is part of its key): results stored by an earlier
 * body are not served to an edited one. The text is the function's alone;
 * an edit to a helper it calls is not seen (name a version in `key` then).
 */
const sourceDigest = (fn: Function): string => createHash("sha256").update(Function.prototype.toString.call(fn)).digest("hex")

/** The key of a call of `name`: the canonical hash of its arguments, or of what `key` makes of them, with the function's source. */
const identify = (label: string, name: string, source: string, args: ReadonlyArray<unknown>, keyOf: ((...args: any) => unknown) | undefined): string => {
  try {
    // The arguments hashed on their own first, so a refusal names their path ("arguments[0].signal").
    const id = keyOf === undefined ? canonicalHash(args, { root: "arguments" }) : canonicalHash(keyOf(...args), { root: "key(…)" })
    return canonicalHash([name, id, source])
  } catch (error) {
    if (!isUnhashableValueError(error)) throw error // thrown by the user's `key`
    const fix = keyOf === undefined ? "pass a `key` that leaves it out" : "make `key` return plain data"
    throw new TypeError(`${label}: cannot identify the call: ${error.path} ${error.reason}; ${fix}`, { cause: error })
  }
}
