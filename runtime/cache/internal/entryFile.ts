/**
 * The bytes of one entry file in a `FileStore`:
 *
 * ```
 * offset  size  field
 *      0     8  magic "WEFTENT" + format version (1)
 *      8     4  meta length, uint32 big-endian
 *     12     8  body length, uint64 big-endian
 *     20    32  SHA-256 of meta + body
 *     52     …  meta: JSON { key, kind, workflow, name, createdAt, expiresAt?, blobs }
 *      …     …  body: node:v8 serialize of the whole entry
 * ```
 *
 * The meta repeats what `list` and `prune` need, so they read the first few
 * hundred bytes of a file instead of the whole value. `get` reads the whole
 * file and trusts nothing until the checksum over meta and body matches.
 */
import { createHash, hash } from "node:crypto"
import * as v8 from "node:v8"
import type { CacheEntry } from "../CacheStore.ts"
import { blobDigests, entryProblem, isDigest, isKey, plainBytes } from "./entry.ts"

const magic = Buffer.from("WEFTENT\x01", "latin1")
/** Bytes before the meta. */
export const headerBytes = 52
/** A meta longer than this is corruption, not a real entry (names are short). */
export const maxMetaBytes = 1024 * 1024

/** What the header and meta of an entry file say, checksum not verified. */
export interface EntryMeta {
  readonly key: string
  readonly kind: CacheEntry["kind"]
  readonly workflow: string
  readonly name: string
  readonly createdAt: number
  readonly expiresAt?: number | undefined
  readonly blobs: ReadonlyArray<string>
}

/** The layout a header announces. */
interface Layout {
  readonly metaLength: number
  readonly bodyLength: number
  readonly checksum: Buffer
}

/** `problem` is a user-facing phrase: "cache entry <key> <problem>". */
export type Decoded<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly problem: string }

const fail = (problem: string): Decoded<never> => ({ ok: false, problem })

/** The file for `entry`: header, meta and body. */
export const encodeEntryFile = (entry: CacheEntry): Buffer => {
  const meta: EntryMeta = {
    key: entry.key,
    kind: entry.kind,
    workflow: entry.workflow,
    name: entry.name,
    createdAt: entry.createdAt,
    ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt }),
    blobs: blobDigests(entry)
  }
  const metaBytes = Buffer.from(JSON.stringify(meta), "utf8")
  const body = v8.serialize(entry)
  const header = Buffer.alloc(headerBytes)
  magic.copy(header, 0)
  header.writeUInt32BE(metaBytes.length, 8)
  header.writeBigUInt64BE(BigInt(body.length), 12)
  createHash("sha256").update(metaBytes).update(body).digest().copy(header, 20)
  return Buffer.concat([header, metaBytes, body])
}

const readLayout = (bytes: Buffer, fileSize: number): Decoded<Layout> => {
  if (fileSize < headerBytes || bytes.length < headerBytes) return fail(`is truncated (${fileSize} bytes, shorter than its header)`)
  if (!bytes.subarray(0, magic.length).equals(magic)) return fail("has no valid header (not a weft cache entry, or a different format version)")
  const metaLength = bytes.readUInt32BE(8)
  const bodyLength = bytes.readBigUInt64BE(12)
  if (metaLength > maxMetaBytes) return fail("has a corrupt header (impossible meta length)")
  const expected = BigInt(headerBytes + metaLength) + bodyLength
  if (expected !== BigInt(fileSize)) {
    return fail(`is truncated or has a corrupt header (its header announces ${expected} bytes, the file has ${fileSize})`)
  }
  return { ok: true, value: { metaLength, bodyLength: Number(bodyLength), checksum: bytes.subarray(20, headerBytes) } }
}

const parseMeta = (bytes: Buffer): Decoded<EntryMeta> => {
  let meta: unknown
  try {
    meta = JSON.parse(bytes.toString("utf8"))
  } catch {
    return fail("has corrupt metadata (not JSON)")
  }
  const m = meta as Partial<Record<keyof EntryMeta, unknown>> | null
  const valid = typeof m === "object" && m !== null && isKey(m.key) && (m.kind === "step" || m.kind === "memo") &&
    typeof m.workflow === "string" && typeof m.name === "string" && typeof m.createdAt === "number" &&
    (m.expiresAt === undefined || typeof m.expiresAt === "number") && Array.isArray(m.blobs) && m.blobs.every(isDigest)
  return valid ? { ok: true, value: m as EntryMeta } : fail("has corrupt metadata (fields missing or of the wrong type)")
}

/**
 * The meta of an entry file from its first bytes (`prefix`, at least
 * `headerBytes` long, and the whole meta when it is to be parsed) and its size
 * on disk. Not checksummed: for listing and pruning only.
 */
export const decodeEntryMeta = (prefix: Buffer, fileSize: number): Decoded<EntryMeta> => {
  const layout = readLayout(prefix, fileSize)
  if (!layout.ok) return layout
  if (prefix.length < headerBytes + layout.value.metaLength) return fail("is truncated (its metadata is cut short)")
  return parseMeta(prefix.subarray(headerBytes, headerBytes + layout.value.metaLength))
}

/** The verified entry in `file`, which was stored under `key`. */
export const decodeEntryFile = (file: Buffer, key: string): Decoded<CacheEntry> => {
  const layout = readLayout(file, file.length)
  if (!layout.ok) return layout
  const metaEnd = headerBytes + layout.value.metaLength
  const checksum = hash("sha256", file.subarray(headerBytes), "buffer")
  if (!checksum.equals(layout.value.checksum)) return fail("does not match its checksum (its bytes were changed or partly written)")
  const meta = parseMeta(file.subarray(headerBytes, metaEnd))
  if (!meta.ok) return meta
  let entry: unknown
  try {
    entry = v8.deserialize(file.subarray(metaEnd))
  } catch (error) {
    return fail(`cannot be decoded (${error instanceof Error ? error.message : String(error)})`)
  }
  const problem = entryProblem(entry)
  if (problem !== undefined) return fail(`is malformed: ${problem}`)
  const value = entry as CacheEntry
  if (value.key !== key || meta.value.key !== key) return fail(`holds the entry of another key (${value.key})`)
  return { ok: true, value: { ...value, value: plainBytes(value.value) } }
}
