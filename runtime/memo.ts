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
 * A scope ({@link MemoScope}) holds what is shared: the remembered results,
 * the calls in flight, the store and the statistics. The engine runs each step
 * under the run's scope; outside any, a process-wide in-memory scope is used,
 * so coalescing works in plain scripts too.
 */
import { AsyncLocalStorage } from "node:async_hooks"
import type * as Duration from "effect/Duration"
import type { CacheEntry, CacheStore } from "./cache/CacheStore.ts"
import { canonicalHash, isUnhashableValueError } from "./cache/canonical.ts"
import { deserializeValue, isUnstorableValueError, serializeValue } from "./cache/serialize.ts"
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

/** What a run shares between its memoized calls. Make one with {@link makeMemoScope}. */
export class MemoScope {
  readonly workflow: string
  readonly #store: CacheStore | undefined
  readonly #now: () => number
  readonly #onMemo: ((event: MemoEvent) => void) | undefined
  readonly #onWarning: (message: string) => void
  readonly #maxEntries: number
  readonly #remembered = new Map<string, Remembered>()
  readonly #inFlight = new Map<string, Promise<Answer>>()
  readonly #stats = new Map<string, MutableStats>()

  constructor(options: MemoScopeOptions = {}) {
    this.workflow = options.workflow ?? ""
    this.#store = options.store
    this.#now = options.now ?? Date.now
    this.#onMemo = options.onMemo
    this.#onWarning = options.onWarning ?? ((message) => process.emitWarning(message, "WeftMemoWarning"))
    this.#maxEntries = Math.max(0, options.maxEntries ?? 1000)
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
  call(name: string, key: string, invoke: () => unknown, ttlMs: number | undefined): Promise<unknown> {
    const stats = this.#statsOf(name)
    const step = storage.getStore()?.step
    stats.calls++
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
    const answer = this.#answer(name, key, invoke, ttlMs, step, stats)
    this.#inFlight.set(key, answer)
    const settled = () => {
      this.#inFlight.delete(key)
    }
    answer.then(settled, settled)
    return answer.then((a) => a.value)
  }

  async #answer(name: string, key: string, invoke: () => unknown, ttlMs: number | undefined, step: string | undefined, stats: MutableStats): Promise<Answer> {
    const stored = await this.#lookup(name, key)
    if (stored !== undefined) {
      stats.hits++
      stats.savedMs += stored.durationMs
      this.#emit({ step, name, outcome: "hit", savedMs: stored.durationMs })
      return stored
    }
    stats.misses++
    const started = this.#now()
    let value: unknown
    try {
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

/**
 * Wraps `fn` so identical calls (same `name`, same canonical arguments) share
 * one result: concurrent ones join the call in flight, later ones reuse its
 * result until `ttl` passes, in this run and, through the run's cache store,
 * in later ones. Errors are never remembered: every waiter gets the error and
 * the next call tries again.
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
export const memo = <A extends ReadonlyArray<unknown>, R>(
  name: string,
  fn: (...args: A) => Promise<R> | R,
  options: MemoOptions<Later<A>> = {}
): ((...args: A) => Promise<R>) => {
  if (typeof name !== "string" || name === "") throw new TypeError("memo: the name must be a non-empty string")
  const ttlMs = options.ttl === undefined ? undefined : toMillis(options.ttl)
  if (options.ttl !== undefined && (ttlMs === undefined || ttlMs < 0)) {
    throw new TypeError(`memo("${name}"): ttl ${JSON.stringify(options.ttl)} is not a duration (try "10 minutes" or a number of milliseconds)`)
  }
  const keyOf = options.key
  return (...args: A): Promise<R> => {
    let key: string
    try {
      // The arguments hashed on their own first, so a refusal names their path ("arguments[0].signal").
      const id = keyOf === undefined ? canonicalHash(args, { root: "arguments" }) : canonicalHash(keyOf(...args), { root: "key(…)" })
      key = canonicalHash([name, id])
    } catch (error) {
      if (!isUnhashableValueError(error)) return Promise.reject(error) // thrown by the user's `key`
      const fix = keyOf === undefined ? "pass a `key` that leaves it out" : "make `key` return plain data"
      return Promise.reject(new TypeError(`memo("${name}"): cannot identify the call: ${error.path} ${error.reason}; ${fix}`, { cause: error }))
    }
    return currentMemoScope().call(name, key, () => fn(...args), ttlMs) as Promise<R>
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
