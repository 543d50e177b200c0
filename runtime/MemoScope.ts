/**
 * What a run shares between its memoized calls (see `memo.ts` for how a call
 * is answered): the remembered results, the batching windows, the calls in
 * flight, the store and the statistics.
 */
import type { CacheEntry, CacheLease, CacheStore } from "./cache/CacheStore.ts"
import { deserializeValue, isUnstorableValueError, serializeValue } from "./cache/serialize.ts"
import { makeBatchWindow } from "./internal/batchWindow.ts"

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
  /** The step it was made in (see `withMemoStep` in memo.ts), if known. */
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

/** @internal A function made by `memo.batched`, as a scope sees it. */
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
  /** Shared with every scope of this process on the same store (see `inFlightTableOf`). */
  readonly #inFlight: Map<string, Promise<Answer>>
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
    this.#inFlight = inFlightTableOf(options.store)
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

  /** @internal Answers one call of `name` identified by `key`, made in `step` (if known). */
  call(name: string, key: string, invoke: () => unknown, ttlMs: number | undefined, rateLimit: string | undefined, step: string | undefined): Promise<unknown> {
    const stats = this.#statsOf(name)
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
  callBatched(batch: BatchSpec, key: string, item: unknown, step: string | undefined): Promise<unknown> {
    const stats = this.#statsOf(batch.name)
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
      if (this.#inFlight.get(key) === answer) this.#inFlight.delete(key)
    }
    answer.then(settled, settled)
    return answer.then((a) => a.value)
  }

  /** Answers a closed window's keys: stored ones from the store, the others with one call of the batch function. */
  async #dispatch(batch: BatchSpec, pending: ReadonlyArray<Pending>): Promise<void> {
    const { name } = batch
    const stats = this.#statsOf(name)
    /** The pending keys the store did not answer; those it did are resolved. */
    const unanswered = (asked: ReadonlyArray<Pending>, stored: ReadonlyArray<Answer | undefined>) =>
      asked.filter((p, i) => {
        const answer = stored[i]
        if (answer === undefined) return true
        stats.hits++
        stats.savedMs += answer.durationMs
        this.#emit({ step: p.step, name, outcome: "hit", savedMs: answer.durationMs })
        p.resolve(answer)
        return false
      })
    const misses = unanswered(pending, await Promise.all(pending.map((p) => this.#lookup(name, p.key))))
    if (misses.length === 0) return
    // As for a single call (`#answer`): hold the keys, then take what another process stored meanwhile.
    const leases = await this.#leases(name, misses.map((p) => p.key))
    try {
      const late = await Promise.all(misses.map((p, i) => (leases[i] === undefined ? undefined : this.#lookup(name, p.key, true))))
      const still = unanswered(misses, late)
      if (still.length > 0) await this.#send(batch, still)
    } finally {
      await Promise.all(leases.map((lease) => lease?.release().catch(() => {})))
    }
  }

  /** Sends the keys of `misses` in one call of the batch function, answering each. */
  async #send(batch: BatchSpec, misses: ReadonlyArray<Pending>): Promise<void> {
    const { name } = batch
    const stats = this.#statsOf(name)
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
    const hit = (stored: Answer): Answer => {
      stats.hits++
      stats.savedMs += stored.durationMs
      this.#emit({ step, name, outcome: "hit", savedMs: stored.durationMs })
      return stored
    }
    const stored = await this.#lookup(name, key)
    if (stored !== undefined) return hit(stored)
    // Another process may be making this very call: hold the key, and take
    // its result if it stored one while we waited.
    const [lease] = await this.#leases(name, [key])
    try {
      const late = lease === undefined ? undefined : await this.#lookup(name, key, true)
      return late !== undefined ? hit(late) : await this.#miss(name, key, invoke, ttlMs, step, stats, rateLimit)
    } finally {
      await lease?.release().catch(() => {})
    }
  }

  async #miss(
    name: string,
    key: string,
    invoke: () => unknown,
    ttlMs: number | undefined,
    step: string | undefined,
    stats: MutableStats,
    rateLimit: string | undefined
  ): Promise<Answer> {
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

  /**
   * The store's leases on `keys` (in the order given), so that another
   * process making the same calls waits for ours and takes our results.
   * Taken in sorted order, so two batches sharing keys cannot each hold one
   * the other waits for. A store that cannot lease is warned about and the
   * calls go on unguarded (an `undefined` lease).
   */
  async #leases(name: string, keys: ReadonlyArray<string>): Promise<Array<CacheLease | undefined>> {
    const store = this.#store
    if (store === undefined) return keys.map(() => undefined)
    const held = new Map<string, CacheLease | undefined>()
    for (const key of [...new Set(keys)].sort()) {
      try {
        held.set(key, await store.lease(key))
      } catch (error) {
        this.#onWarning(`memo("${name}"): the cache store could not hold the call for this run (${describe(error)}); calling the function anyway`)
        held.set(key, undefined)
      }
    }
    return keys.map((key) => held.get(key))
  }

  /** A live entry of the store, remembered from now on; store failures and unreadable entries are misses. */
  async #lookup(name: string, key: string, again = false): Promise<Answer | undefined> {
    if (this.#store === undefined) return undefined
    let entry: CacheEntry | undefined
    try {
      entry = await this.#store.get(key)
    } catch (error) {
      // Looked up again under the lease: the first look said it already.
      if (!again) this.#onWarning(`memo("${name}"): the cache store could not be read (${describe(error)}); calling the function`)
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
 * The calls in flight, by key, of every scope in this process on one store:
 * runs that overlap (ten sessions started together, or one after another
 * while the first calls are out) join one call instead of making their own.
 * Stores are told apart by `id` (one folder, however many `FileStore`
 * objects open it), else by object; a scope without a store has its own.
 * Tables are tiny and empty between calls, so they are never dropped.
 */
const tablesById = new Map<string, Map<string, Promise<Answer>>>()
const tablesByStore = new WeakMap<CacheStore, Map<string, Promise<Answer>>>()
const inFlightTableOf = (store: CacheStore | undefined): Map<string, Promise<Answer>> => {
  if (store === undefined) return new Map()
  const shared = store.id === undefined ? tablesByStore.get(store) : tablesById.get(store.id)
  if (shared !== undefined) return shared
  const table = new Map<string, Promise<Answer>>()
  if (store.id === undefined) tablesByStore.set(store, table)
  else tablesById.set(store.id, table)
  return table
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

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))
