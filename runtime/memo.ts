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
import { AsyncLocalStorage } from "node:async_hooks"
import type * as Duration from "effect/Duration"
import type { CacheEntry, CacheStore } from "./cache/CacheStore.ts"
import { canonicalHash, isUnhashableValueError } from "./cache/canonical.ts"
import { deserializeValue, isUnstorableValueError, serializeValue } from "./cache/serialize.ts"
import { makeBatchWindow } from "./internal/batchWindow.ts"
import { toMillis } from "./internal/duration.ts"

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

/** Per-function counts, as shown in the run summary and `step:memo` events. */
export interface MemoStats {
  /** Every call made through the memoized function. */
  readonly calls: number
  /** Answered from a remembered or stored result. */
  readonly hits: number
  /** Joined an identical call already in flight. */
  readonly coalesced: number
  /** Called the function (successfully or not). */
  readonly misses: number
  /** The sum, over hits and coalesced calls, of how long the original call took. */
  readonly savedMs: number
}

/** One memoized call, told to `onMemo` when it is answered. */
export interface MemoEvent {
  /** The step it was made in (see {@link withMemoStep}), if known. */
  readonly step: string | undefined
  /** The memoized function's name. */
  readonly name: string
  readonly outcome: "hit" | "coalesced" | "miss"
  /** How long the original call took, for a hit or a coalesced call that succeeded; else 0. */
  readonly savedMs: number
  /** For a miss: how long the call took. */
  readonly durationMs?: number
  /** The call (or the one it joined) failed: nothing was remembered. */
  readonly failed?: boolean
  /** For a miss of a batched function: how many keys the one call carried. */
  readonly keys?: number
}

/** Options of {@link makeMemoScope}. */
export interface MemoScopeOptions {
  /** Where results outlive the scope. Absent: kept in memory only. */
  readonly store?: CacheStore
  /** Recorded in stored entries, for `weft cache stats`. */
  readonly workflow?: string
  /** Epoch milliseconds (default `Date.now`): TTLs and durations are measured with it. */
  readonly now?: () => number
  /** Called for every call once it is answered. */
  readonly onMemo?: (event: MemoEvent) => void
  /** A result that was not stored, or a store that failed (default: `process.emitWarning`). */
  readonly onWarning?: (message: string) => void
  /** How many results are remembered in memory, least recently used dropped first (default 1000). */
  readonly maxEntries?: number
  /**
   * Waits for a turn of the rate limit `limit` before a real call of memo
   * `name` made for `steps` (a run's executor provides it). Absent: calls
   * with a `rateLimit` do not wait.
   */
  readonly rateLimit?: (limit: string, name: string, steps: ReadonlyArray<string | undefined>) => Promise<void>
}

/**
 * `A`, but not inferred from here: the arguments are `fn`'s, and a `key` taking
 * fewer still type-checks. (`NoInfer<A>` would reject such a `key`: it compares
 * the rest tuples whole.)
 */
type Later<A> = [A][A extends unknown ? 0 : never]

interface Remembered {
  readonly value: Uint8Array
  readonly durationMs: number
  readonly expiresAt: number | undefined
}

interface Answer {
  readonly value: unknown
  readonly durationMs: number
}

type MutableStats = { -readonly [K in keyof MemoStats]: MemoStats[K] }

/** @internal A function made by {@link batched}, as a scope sees it. */
export interface BatchSpec {
  readonly name: string
  readonly invoke: (items: Array<unknown>) => unknown
  readonly maxBatch: number
  readonly windowMs: number | undefined
  readonly ttlMs: number | undefined
  readonly rateLimit: string | undefined
}

/** A key waiting in a batching window for the batch that answers it. */
interface Pending {
  readonly key: string
  readonly item: unknown
  readonly step: string | undefined
  readonly resolve: (answer: Answer) => void
  readonly reject: (error: unknown) => void
}

/** What a run shares between its memoized calls. Make one with {@link makeMemoScope}. */
export class MemoScope {
  readonly workflow: string
  readonly #store: CacheStore | undefined
  readonly #now: () => number
  readonly #onMemo: ((event: MemoEvent) => void) | undefined
  readonly #onWarning: (message: string) => void
  readonly #maxEntries: number
  readonly #rateLimit: MemoScopeOptions["rateLimit"]
  readonly #remembered = new Map<string, Remembered>()
  readonly #inFlight = new Map<string, Promise<Answer>>()
  readonly #stats = new Map<string, MutableStats>()
  readonly #windows = new WeakMap<BatchSpec, (pending: Pending) => void>()

  constructor(options: MemoScopeOptions = {}) {
    this.workflow = options.workflow ?? ""
    this.#store = options.store
    this.#now = options.now ?? Date.now
    this.#onMemo = options.onMemo
    this.#onWarning = options.onWarning ?? ((message) => process.emitWarning(message, "WeftMemoWarning"))
    this.#maxEntries = Math.max(0, options.maxEntries ?? 1000)
    this.#rateLimit = options.rateLimit
  }

  /** Counts so far, by function name. */
  stats(): Record<string, MemoStats> {
    return Object.fromEntries([...this.#stats].map(([name, s]) => [name, { ...s }]))
  }

  /** Forgets remembered results and counts (not the store, not calls in flight). */
  clear(): void {
    this.#remembered.clear()
    this.#stats.clear()
  }

  /** @internal Answers one call of `name` identified by `key`. */
  call(name: string, key: string, invoke: () => unknown, ttlMs: number | undefined, rateLimit?: string): Promise<unknown> {
    const stats = this.#statsOf(name)
    const step = storage.getStore()?.step
    stats.calls++
    return this.#early(name, key, step, stats) ?? this.#track(key, this.#answer(name, key, invoke, ttlMs, step, stats, rateLimit))
  }

  /** Waits for `limit`'s turn, when there is a limit and a run to keep it. */
  #turn(limit: string | undefined, name: string, steps: ReadonlyArray<string | undefined>): Promise<void> | undefined {
    return limit === undefined || this.#rateLimit === undefined ? undefined : this.#rateLimit(limit, name, steps)
  }

  /**
   * @internal Answers one call of a batched function: from memory, by joining
   * the same key in flight, or else in the batch its window sends.
   */
  callBatched(batch: BatchSpec, key: string, item: unknown): Promise<unknown> {
    const stats = this.#statsOf(batch.name)
    const step = storage.getStore()?.step
    stats.calls++
    const early = this.#early(batch.name, key, step, stats)
    if (early !== undefined) return early
    let add = this.#windows.get(batch)
    if (add === undefined) {
      add = makeBatchWindow<Pending>({ windowMs: batch.windowMs, maxItems: batch.maxBatch }, (pending) => {
        // Our own defect must still reach the callers, not hang them.
        this.#dispatch(batch, pending).catch((error: unknown) => pending.forEach((p) => p.reject(error)))
      })
      this.#windows.set(batch, add)
    }
    const join = add
    // In flight from now on: the same key called again, batched or not, joins it.
    return this.#track(key, new Promise<Answer>((resolve, reject) => join({ key, item, step, resolve, reject })))
  }

  /** A remembered result (a hit) or the same call in flight (coalesced), when either answers the call. */
  #early(name: string, key: string, step: string | undefined, stats: MutableStats): Promise<unknown> | undefined {
    const remembered = this.#recall(key)
    if (remembered !== undefined) {
      // A copy per hit, so a caller mutating its result cannot change what the next one gets.
      const value = deserializeValue(remembered.value)
      stats.hits++
      stats.savedMs += remembered.durationMs
      this.#emit({ step, name, outcome: "hit", savedMs: remembered.durationMs })
      return Promise.resolve(value)
    }
    const inFlight = this.#inFlight.get(key)
    if (inFlight !== undefined) {
      stats.coalesced++
      return inFlight.then(
        (answer) => {
          stats.savedMs += answer.durationMs
          this.#emit({ step, name, outcome: "coalesced", savedMs: answer.durationMs })
          return answer.value
        },
        (error: unknown) => {
          this.#emit({ step, name, outcome: "coalesced", savedMs: 0, failed: true })
          throw error
        }
      )
    }
    return undefined
  }

  #track(key: string, answer: Promise<Answer>): Promise<unknown> {
    this.#inFlight.set(key, answer)
    const settled = () => {
      this.#inFlight.delete(key)
    }
    answer.then(settled, settled)
    return answer.then((a) => a.value)
  }

  /** Answers a closed window's keys: stored ones from the store, the others with one call of the batch function. */
  async #dispatch(batch: BatchSpec, pending: ReadonlyArray<Pending>): Promise<void> {
    const { name } = batch
    const stats = this.#statsOf(name)
    const stored = await Promise.all(pending.map((p) => this.#lookup(name, p.key)))
    const misses = pending.filter((p, i) => {
      const answer = stored[i]
      if (answer === undefined) return true
      stats.hits++
      stats.savedMs += answer.durationMs
      this.#emit({ step: p.step, name, outcome: "hit", savedMs: answer.durationMs })
      p.resolve(answer)
      return false
    })
    if (misses.length === 0) return
    stats.misses += misses.length
    const keys = misses.length
    let started = this.#now()
    const fail = (error: unknown) => {
      const durationMs = Math.max(0, this.#now() - started)
      for (const p of misses) {
        this.#emit({ step: p.step, name, outcome: "miss", savedMs: 0, durationMs, failed: true, keys })
        p.reject(error)
      }
    }
    let values: unknown
    try {
      const turn = this.#turn(batch.rateLimit, name, [...new Set(misses.map((p) => p.step))])
      if (turn !== undefined) {
        await turn
        started = this.#now()
      }
      values = await batch.invoke(misses.map((p) => p.item))
    } catch (error) {
      return fail(error)
    }
    if (!Array.isArray(values) || values.length !== misses.length) {
      const got = Array.isArray(values) ? `${values.length} value${values.length === 1 ? "" : "s"}` : `${values === null ? "null" : typeof values}, not an array,`
      return fail(new TypeError(`memo.batched("${name}"): the batch function returned ${got} for ${misses.length} key${misses.length === 1 ? "" : "s"}; it must return an array with one value per key, in the keys' order`))
    }
    const durationMs = Math.max(0, this.#now() - started)
    // Each key is remembered as costing its share of the call: hits on all of
    // a batch's keys then save one batch call (what they would cost), not n.
    const share = durationMs / misses.length
    await Promise.all(misses.map(async (p, i) => {
      this.#emit({ step: p.step, name, outcome: "miss", savedMs: 0, durationMs, keys })
      try {
        await this.#keep(name, p.key, values[i], share, batch.ttlMs, p.step)
        p.resolve({ value: values[i], durationMs: share })
      } catch (error) {
        p.reject(error)
      }
    }))
  }

  async #answer(
    name: string,
    key: string,
    invoke: () => unknown,
    ttlMs: number | undefined,
    step: string | undefined,
    stats: MutableStats,
    rateLimit: string | undefined
  ): Promise<Answer> {
    const stored = await this.#lookup(name, key)
    if (stored !== undefined) {
      stats.hits++
      stats.savedMs += stored.durationMs
      this.#emit({ step, name, outcome: "hit", savedMs: stored.durationMs })
      return stored
    }
    stats.misses++
    let started = this.#now()
    let value: unknown
    try {
      const turn = this.#turn(rateLimit, name, [step])
      if (turn !== undefined) {
        await turn
        started = this.#now()
      }
      value = await invoke()
    } catch (error) {
      this.#emit({ step, name, outcome: "miss", savedMs: 0, durationMs: this.#now() - started, failed: true })
      throw error
    }
    const durationMs = Math.max(0, this.#now() - started)
    this.#emit({ step, name, outcome: "miss", savedMs: 0, durationMs })
    await this.#keep(name, key, value, durationMs, ttlMs, step)
    return { value, durationMs }
  }

  /** A live entry of the store, remembered from now on; store failures and unreadable entries are misses. */
  async #lookup(name: string, key: string): Promise<Answer | undefined> {
    if (this.#store === undefined) return undefined
    let entry: CacheEntry | undefined
    try {
      entry = await this.#store.get(key)
    } catch (error) {
      this.#onWarning(`memo("${name}"): the cache store could not be read (${describe(error)}); calling the function`)
      return undefined
    }
    if (entry === undefined || entry.kind !== "memo" || this.#expired(entry.expiresAt)) return undefined
    let value: unknown
    try {
      value = deserializeValue(entry.value)
    } catch (error) {
      this.#onWarning(`memo("${name}"): a stored result could not be read (${describe(error)}); calling the function`)
      return undefined
    }
    this.#remember(key, { value: entry.value, durationMs: entry.durationMs, expiresAt: entry.expiresAt })
    return { value, durationMs: entry.durationMs }
  }

  /** Remembers and stores a result; one that cannot be serialized is neither, and a warning says why. */
  async #keep(name: string, key: string, value: unknown, durationMs: number, ttlMs: number | undefined, step: string | undefined): Promise<void> {
    let bytes: Uint8Array
    try {
      bytes = serializeValue(value, { step: step ?? "", root: "result" })
    } catch (error) {
      if (!isUnstorableValueError(error)) throw error
      this.#onWarning(`memo("${name}"): the result was not cached: ${error.path} ${error.reason}`)
      return
    }
    const createdAt = this.#now()
    const expiresAt = ttlMs === undefined || ttlMs === Infinity ? undefined : createdAt + ttlMs
    this.#remember(key, { value: bytes, durationMs, expiresAt })
    if (this.#store === undefined) return
    try {
      await this.#store.put({
        key,
        kind: "memo",
        workflow: this.workflow,
        name,
        value: bytes,
        logs: [],
        files: [],
        durationMs,
        createdAt,
        expiresAt
      })
    } catch (error) {
      this.#onWarning(`memo("${name}"): the result could not be stored (${describe(error)})`)
    }
  }

  #recall(key: string): Remembered | undefined {
    const remembered = this.#remembered.get(key)
    if (remembered === undefined) return undefined
    this.#remembered.delete(key)
    if (this.#expired(remembered.expiresAt)) return undefined
    this.#remembered.set(key, remembered) // most recently used last
    return remembered
  }

  #remember(key: string, remembered: Remembered): void {
    this.#remembered.delete(key)
    this.#remembered.set(key, remembered)
    for (const oldest of this.#remembered.keys()) {
      if (this.#remembered.size <= this.#maxEntries) break
      this.#remembered.delete(oldest)
    }
  }

  #expired(expiresAt: number | undefined): boolean {
    return expiresAt !== undefined && this.#now() > expiresAt
  }

  #statsOf(name: string): MutableStats {
    let stats = this.#stats.get(name)
    if (stats === undefined) {
      stats = { calls: 0, hits: 0, coalesced: 0, misses: 0, savedMs: 0 }
      this.#stats.set(name, stats)
    }
    return stats
  }

  #emit(event: MemoEvent): void {
    this.#onMemo?.(event)
  }
}

/**
 * A scope for one run: results shared by its steps, persisted to `store` when
 * given.
 *
 * @example
 * const scope = makeMemoScope({ store, workflow: "research", onMemo: (e) => console.log(e) })
 * await withMemoScope(scope, () => agent(), { step: "agent" })
 * scope.stats() // { get_company_profile: { calls: 4, hits: 3, ... } }
 */
export const makeMemoScope = (options: MemoScopeOptions = {}): MemoScope => new MemoScope(options)

interface Binding {
  readonly scope: MemoScope
  readonly step: string | undefined
}

const storage = new AsyncLocalStorage<Binding>()

/** Used outside any {@link withMemoScope}: in memory, for the life of the process. */
export const defaultMemoScope: MemoScope = makeMemoScope()

/** The scope memoized calls made here use: the innermost {@link withMemoScope}, else {@link defaultMemoScope}. */
export const currentMemoScope = (): MemoScope => storage.getStore()?.scope ?? defaultMemoScope

/**
 * Runs `f` with `scope` current, so memoized calls made in it (and in what it
 * awaits) share that scope; `step` attributes them to a step.
 *
 * @example
 * await withMemoScope(scope, () => body(), { step: "fetch" })
 */
export const withMemoScope = <T>(scope: MemoScope, f: () => T, options: { readonly step?: string } = {}): T =>
  storage.run({ scope, step: options.step }, f)

/** Runs `f` with memoized calls attributed to `step`, in the current scope. */
export const withMemoStep = <T>(step: string, f: () => T): T => storage.run({ scope: currentMemoScope(), step }, f)

const memoOne = <A extends ReadonlyArray<unknown>, R>(
  name: string,
  fn: (...args: A) => Promise<R> | R,
  options: MemoOptions<Later<A>> = {}
): ((...args: A) => Promise<R>) => {
  if (typeof name !== "string" || name === "") throw new TypeError("memo: the name must be a non-empty string")
  const ttlMs = ttlOf(`memo("${name}")`, options.ttl)
  const rateLimit = rateLimitOf(`memo("${name}")`, options.rateLimit)
  const keyOf = options.key
  return (...args: A): Promise<R> => {
    let key: string
    try {
      key = identify(`memo("${name}")`, name, args, keyOf)
    } catch (error) {
      return Promise.reject(error)
    }
    return currentMemoScope().call(name, key, () => fn(...args), ttlMs, rateLimit) as Promise<R>
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
 * `memo(name, (key) => …)` identifies its argument: the two share results.
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
  return (item: K): Promise<V> => {
    let key: string
    try {
      key = identify(label, name, [item], keyOf)
    } catch (error) {
      return Promise.reject(error)
    }
    return currentMemoScope().callBatched(spec, key, item) as Promise<V>
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
 * The name identifies the function across runs: two `memo`s with one name
 * share results. A hit returns a structured-clone copy of the result (a class
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

/** The key of a call of `name`: the canonical hash of its arguments, or of what `key` makes of them. */
const identify = (label: string, name: string, args: ReadonlyArray<unknown>, keyOf: ((...args: any) => unknown) | undefined): string => {
  try {
    // The arguments hashed on their own first, so a refusal names their path ("arguments[0].signal").
    const id = keyOf === undefined ? canonicalHash(args, { root: "arguments" }) : canonicalHash(keyOf(...args), { root: "key(…)" })
    return canonicalHash([name, id])
  } catch (error) {
    if (!isUnhashableValueError(error)) throw error // thrown by the user's `key`
    const fix = keyOf === undefined ? "pass a `key` that leaves it out" : "make `key` return plain data"
    throw new TypeError(`${label}: cannot identify the call: ${error.path} ${error.reason}; ${fix}`, { cause: error })
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
