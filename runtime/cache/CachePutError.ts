/**
 * A result that could not be stored because an output file it declares is
 * not what the entry says: it changed (or vanished) between being hashed and
 * being copied into the store. Nothing is stored for the key; the caller
 * treats the step as uncacheable this time, never as failed.
 */
import * as Data from "effect/Data"

/** An output file did not match its entry when `put` copied it in; nothing was stored. */
export class CachePutError extends Data.TaggedError("CachePutError")<{
  /** The entry's key. */
  readonly key: string
  /** The output file, relative to the workflow's folder. */
  readonly path: string
  /** What was wrong, e.g. "changed while it was being stored". */
  readonly reason: string
}> {
  override get message(): string {
    return `cannot cache entry ${this.key}: output file ${this.path} ${this.reason}`
  }
}

/** Whether `u` is a `CachePutError`. */
export const isCachePutError = (u: unknown): u is CachePutError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "CachePutError"
