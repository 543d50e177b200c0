/**
 * One cache entry and its blobs as one artifact of the remote cache (the
 * API is content-agnostic; Turborepo's own .tar.zst would add a dependency
 * and nothing weft needs):
 *
 * ```
 * offset  size  field
 *      0     8  magic "WEFTART" + format version (1)
 *      8     4  blob count n, uint32 big-endian
 *     12  40·n  per blob: SHA-256 (32 bytes), size (uint64 big-endian)
 *      …     8  entry file length, uint64 big-endian
 *      …     …  the entry file (internal/entryFile.ts: checksummed, names its key)
 *      …     …  the blobs' bytes, in the order listed
 * ```
 *
 * Decoding trusts nothing: the entry must pass its checksum and name the key
 * asked for, each blob must match its digest, and the blobs must be exactly
 * those the entry refers to.
 */
import { createHash } from "node:crypto"
import type { CacheEntry } from "../CacheStore.ts"
import { blobDigests } from "../internal/entry.ts"
import { decodeEntryFile, encodeEntryFile, type Decoded } from "../internal/entryFile.ts"

const magic = Buffer.from("WEFTART\x01", "latin1")

/** The artifact of `entry` (already normalized) with its blobs' bytes, by digest. */
export const encodeArtifact = (entry: CacheEntry, blobs: ReadonlyMap<string, Uint8Array>): Buffer => {
  const digests = blobDigests(entry)
  const head = Buffer.alloc(12 + 40 * digests.length + 8)
  magic.copy(head, 0)
  head.writeUInt32BE(digests.length, 8)
  const parts: Array<Uint8Array> = []
  digests.forEach((digest, i) => {
    const bytes = blobs.get(digest)
    if (bytes === undefined) throw new TypeError(`weft cache: blob ${digest} of entry ${entry.key} is missing`)
    Buffer.from(digest, "hex").copy(head, 12 + 40 * i)
    head.writeBigUInt64BE(BigInt(bytes.byteLength), 12 + 40 * i + 32)
    parts.push(bytes)
  })
  const file = encodeEntryFile(entry)
  head.writeBigUInt64BE(BigInt(file.length), 12 + 40 * digests.length)
  return Buffer.concat([head, file, ...parts])
}

/** What an artifact holds: the verified entry and its verified blobs, by digest. */
export interface Artifact {
  readonly entry: CacheEntry
  readonly blobs: ReadonlyMap<string, Uint8Array>
}

const fail = (problem: string): Decoded<never> => ({ ok: false, problem })

/** The artifact in `bytes`, downloaded for `key`; `problem` completes "artifact <key> …". */
export const decodeArtifact = (bytes: Uint8Array, key: string): Decoded<Artifact> => {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < 20 || !buf.subarray(0, 8).equals(magic)) return fail("is not a weft artifact (or of another format version)")
  const count = buf.readUInt32BE(8)
  const listEnd = 12 + 40 * count
  if (listEnd + 8 > buf.length) return fail("is truncated")
  const listed: Array<{ digest: string; size: number }> = []
  for (let i = 0; i < count; i++) {
    listed.push({ digest: buf.subarray(12 + 40 * i, 12 + 40 * i + 32).toString("hex"), size: Number(buf.readBigUInt64BE(12 + 40 * i + 32)) })
  }
  const fileLength = Number(buf.readBigUInt64BE(listEnd))
  const total = listEnd + 8 + fileLength + listed.reduce((sum, b) => sum + b.size, 0)
  if (total !== buf.length) return fail(`is truncated or malformed (it announces ${total} bytes and has ${buf.length})`)
  const decoded = decodeEntryFile(buf.subarray(listEnd + 8, listEnd + 8 + fileLength), key)
  if (!decoded.ok) return decoded
  const blobs = new Map<string, Uint8Array>()
  let at = listEnd + 8 + fileLength
  for (const { digest, size } of listed) {
    const blob = buf.subarray(at, at + size)
    at += size
    if (createHash("sha256").update(blob).digest("hex") !== digest) return fail(`holds a blob that does not match its digest (${digest})`)
    blobs.set(digest, blob)
  }
  const wanted = blobDigests(decoded.value)
  if (wanted.length !== blobs.size || wanted.some((digest) => !blobs.has(digest))) return fail("does not hold the blobs its entry refers to")
  return { ok: true, value: { entry: decoded.value, blobs } }
}
