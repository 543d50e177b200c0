/**
 * Where step results and memoized calls are kept between runs. The engine
 * talks only to this interface, so a remote backend can be added later
 * without touching it.
 *
 * Promises every implementation keeps (checked by `store.contract.ts`):
 * - an entry is visible only once it is complete (atomic put);
 * - `get` verifies the entry's checksum: a corrupt or truncated entry is a
 *   miss (reported through `onWarning`) and is removed, never an error and
 *   never a wrong value;
 * - two processes using one store at once corrupt nothing: the last complete
 *   put of a key wins, readers see one complete entry or none;
 * - `lease` gives one holder at a time per key, across every process using
 *   the store, and a lease whose holder is gone is taken over: so one
 *   execution makes a key's entry while the others wait and take its hit.
 */
import type { LogStream } from "../Event.ts"

/** A file a command step declared as output, stored as a blob. */
export interface StoredFile {
  /** Path relative to the workflow's folder, with `/` separators. */
  readonly path: string
  /** SHA-256 of the content, hex: the blob's name in the store. */
  readonly digest: string
  readonly size: number
  /** Permission bits (`mode & 0o777`). */
  readonly mode: number
}

/** A step's output kept as a blob (see `CacheEntry.output`). */
export interface StoredOutput {
  /** SHA-256 of the blob, hex: its name in the store. */
  readonly digest: string
  readonly size: number
  /** Streamed parts at its start that earlier attempts streamed: not replayed. */
  readonly skipParts: number
}

/** One cached step result or memoized call. */
export interface CacheEntry {
  /** SHA-256 hex of everything the result depends on. */
  readonly key: string
  readonly kind: "step" | "memo"
  /** Workflow and step (or memo function) it came from, for `weft cache stats`. */
  readonly workflow: string
  readonly name: string
  /** The value, serialized with structured clone (`node:v8` serialize). */
  readonly value: Uint8Array
  /** Log lines the step printed, replayed on a hit. */
  readonly logs: ReadonlyArray<{ readonly stream: LogStream; readonly text: string }>
  /**
   * The parts the step streamed (`step:partial`), replayed on a hit: each
   * part's text, and how many of `logs` came before it, so a replay
   * interleaves them as they were. Absent in entries written before weft streamed.
   */
  readonly partials?: ReadonlyArray<{ readonly text: string; readonly afterLogs: number }> | undefined
  readonly files: ReadonlyArray<StoredFile>
  /**
   * The step's log lines and streamed parts when they outgrew what an entry
   * holds inline: a blob (in `runtime/internal/outputFile.ts`'s format), and
   * `logs` and `partials` are then empty. Absent in entries written before
   * weft kept big output apart.
   */
  readonly output?: StoredOutput | undefined
  /** How long producing it took: the time a hit saves. */
  readonly durationMs: number
  /** Epoch milliseconds. */
  readonly createdAt: number
  /** Epoch milliseconds after which it is a miss; absent: no expiry. */
  readonly expiresAt?: number | undefined
}

/** What `list` tells about an entry without reading its value. */
export interface EntryInfo {
  readonly key: string
  readonly kind: CacheEntry["kind"]
  readonly workflow: string
  readonly name: string
  /** Bytes on disk, blobs not included. */
  readonly bytes: number
  readonly createdAt: number
  readonly lastUsedAt: number
  readonly expiresAt?: number | undefined
}

export interface StoreStats {
  readonly entries: number
  /** Bytes on disk: entries and blobs. */
  readonly bytes: number
}

/** Exclusive use of one key of a store: see `CacheStore.lease`. */
export interface CacheLease {
  /** Gives the key up, so the next waiter takes it. Calling it again does nothing. */
  release(): Promise<void>
}

/** How `lease` waits. */
export interface LeaseOptions {
  /** Aborting it ends the wait: `lease` rejects with its reason and holds nothing. */
  readonly signal?: AbortSignal | undefined
  /** Told once, in words for the user, when the key is held by someone else and the wait begins. */
  readonly onWait?: ((holder: string) => void) | undefined
}

export interface CacheStore {
  /**
   * What the store keeps its entries in (a `FileStore`'s folder): two stores
   * with one `id` are the same storage, so runs in one process using either
   * share their memoized calls in flight. Absent: only this object is itself.
   */
  readonly id?: string | undefined
  /** The entry, verified, or `undefined` (absent, expired, or corrupt and removed). Marks it used (LRU). */
  get(key: string): Promise<CacheEntry | undefined>
  /** Stores an entry atomically; `blobs` maps a stored file's digest to the file to copy in. */
  put(entry: CacheEntry, blobs?: ReadonlyMap<string, string>): Promise<void>
  has(key: string): Promise<boolean>
  delete(key: string): Promise<void>
  list(): Promise<ReadonlyArray<EntryInfo>>
  stats(): Promise<StoreStats>
  /** A blob's bytes, verified against its digest, or `undefined`. */
  readBlob(digest: string): Promise<Uint8Array | undefined>
  /**
   * A blob's bytes as a stream, for one too big to hold in memory (a step's
   * output): checked against its digest before it is returned, or
   * `undefined` (absent, or corrupt and removed).
   */
  openBlob(digest: string): Promise<AsyncIterable<Uint8Array> | undefined>
  /** Removes expired entries, then least recently used ones until the store is under `maxBytes`; unreferenced blobs too. */
  prune(options: { readonly maxBytes?: number; readonly now?: number }): Promise<{ readonly removed: number; readonly freedBytes: number }>
  /** Removes everything. */
  clear(): Promise<void>
  /**
   * Takes `key` for the caller alone: resolves once no one else, in this
   * process or another, holds it. The engine holds a step's key from its
   * miss to its put, and a memoized call's from its miss to its result, so
   * a second run wanting the same key waits for the first and takes its hit
   * instead of running the work again (and never stores a mix of two
   * executions). A lease whose holder has died is taken over.
   */
  lease(key: string, options?: LeaseOptions): Promise<CacheLease>
}
