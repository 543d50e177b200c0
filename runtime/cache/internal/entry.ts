/**
 * Checks shared by every store: which keys and digests are acceptable, the
 * shape of an entry read back from storage, and expiry.
 */
import type { CacheEntry, StoredFile, StoredOutput } from "../CacheStore.ts"

const keyPattern = /^[0-9a-f]{2,128}$/
const digestPattern = /^[0-9a-f]{64}$/

/**
 * Keys become file names, so only lowercase hex is accepted: no path
 * separators, and no two keys that a case-insensitive file system (macOS,
 * Windows) would confuse.
 */
export const isKey = (key: unknown): key is string => typeof key === "string" && keyPattern.test(key)

/** A SHA-256 digest in lowercase hex. */
export const isDigest = (digest: unknown): digest is string => typeof digest === "string" && digestPattern.test(digest)

/** Throws on a key no store accepts: passing one is a bug in the caller, not a cache miss. */
export const assertKey = (key: string): void => {
  if (!isKey(key)) throw new TypeError(`weft cache: invalid key ${JSON.stringify(key)} (expected lowercase hex, 2 to 128 characters)`)
}

/** Throws on a digest that is not SHA-256 lowercase hex. */
export const assertDigest = (digest: string): void => {
  if (!isDigest(digest)) throw new TypeError(`weft cache: invalid blob digest ${JSON.stringify(digest)} (expected SHA-256 lowercase hex)`)
}

/** Whether the entry is past its expiry at `now`. */
export const isExpired = (entry: { readonly expiresAt?: number | undefined }, now: number): boolean =>
  entry.expiresAt !== undefined && now > entry.expiresAt

/**
 * The entry with exactly the fields of `CacheEntry` (extra properties a caller
 * passed are not stored), validated so that a bad put fails loudly instead of
 * storing something `get` would later reject.
 */
export const normalizeEntry = (entry: CacheEntry): CacheEntry => {
  assertKey(entry.key)
  const normalized: CacheEntry = {
    key: entry.key,
    kind: entry.kind,
    workflow: entry.workflow,
    name: entry.name,
    value: entry.value,
    logs: entry.logs.map((line) => ({ stream: line.stream, text: line.text })),
    ...(entry.partials === undefined ? {} : { partials: entry.partials.map((part) => ({ text: part.text, afterLogs: part.afterLogs })) }),
    files: entry.files.map((file) => ({ path: file.path, digest: file.digest, size: file.size, mode: file.mode })),
    ...(entry.output === undefined ? {} : { output: { digest: entry.output.digest, size: entry.output.size, skipParts: entry.output.skipParts } }),
    durationMs: entry.durationMs,
    createdAt: entry.createdAt,
    ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt })
  }
  const problem = entryProblem(normalized)
  if (problem !== undefined) throw new TypeError(`weft cache: cannot store entry ${entry.key}: ${problem}`)
  return normalized
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null
const isFiniteNumber = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)
const streams: ReadonlySet<unknown> = new Set(["stdout", "stderr", "log"])

const fileProblem = (file: unknown, index: number): string | undefined => {
  if (!isRecord(file)) return `files[${index}] is not an object`
  if (typeof file.path !== "string" || file.path === "") return `files[${index}].path is not a non-empty string`
  if (!isDigest(file.digest)) return `files[${index}].digest is not a SHA-256 hex digest`
  if (!isFiniteNumber(file.size) || file.size < 0) return `files[${index}].size is not a size`
  if (!isFiniteNumber(file.mode)) return `files[${index}].mode is not a number`
  return undefined
}

/** What is wrong with a value that should be a `CacheEntry`, or `undefined` when nothing is. */
export const entryProblem = (u: unknown): string | undefined => {
  if (!isRecord(u)) return "it is not an object"
  if (!isKey(u.key)) return "its key is not lowercase hex"
  if (u.kind !== "step" && u.kind !== "memo") return "its kind is neither step nor memo"
  if (typeof u.workflow !== "string" || typeof u.name !== "string") return "its workflow or name is not a string"
  if (!(u.value instanceof Uint8Array)) return "its value is not bytes"
  if (!Array.isArray(u.logs)) return "its logs are not a list"
  for (const line of u.logs) {
    if (!isRecord(line) || !streams.has(line.stream) || typeof line.text !== "string") return "a log line is malformed"
  }
  if (u.partials !== undefined) {
    if (!Array.isArray(u.partials)) return "its streamed parts are not a list"
    for (const part of u.partials) {
      if (!isRecord(part) || typeof part.text !== "string" || !isFiniteNumber(part.afterLogs)) return "a streamed part is malformed"
    }
  }
  if (!Array.isArray(u.files)) return "its files are not a list"
  for (const [index, file] of u.files.entries()) {
    const problem = fileProblem(file, index)
    if (problem !== undefined) return problem
  }
  if (u.output !== undefined) {
    const output = u.output
    if (!isRecord(output) || !isDigest(output.digest) || !isFiniteNumber(output.size) || output.size < 0 || !isFiniteNumber(output.skipParts)) return "its output blob is malformed"
  }
  if (!isFiniteNumber(u.durationMs) || !isFiniteNumber(u.createdAt)) return "its duration or creation time is not a number"
  if (u.expiresAt !== undefined && !isFiniteNumber(u.expiresAt)) return "its expiry is not a number"
  return undefined
}

/** Every blob an entry refers to: its output files, and its output when kept as a blob (as a file named `<output>`, never restored). */
export const blobsOf = (entry: { readonly files: ReadonlyArray<StoredFile>; readonly output?: StoredOutput | undefined }): ReadonlyArray<StoredFile> =>
  entry.output === undefined ? entry.files : [...entry.files, { path: "<output>", digest: entry.output.digest, size: entry.output.size, mode: 0o644 }]

/** The distinct blob digests an entry refers to. */
export const blobDigests = (entry: { readonly files: ReadonlyArray<StoredFile>; readonly output?: StoredOutput | undefined }): ReadonlyArray<string> => [
  ...new Set(blobsOf(entry).map((file) => file.digest))
]

/** A copy of `bytes` as a plain `Uint8Array` (not a `Buffer`, not a view into a larger buffer). */
export const plainBytes = (bytes: Uint8Array): Uint8Array => {
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return copy
}
