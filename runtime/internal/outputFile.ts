/**
 * A step's output kept in a file instead of memory, once it outgrows what is
 * kept in memory (see `stepOutput.ts`): every log line and streamed part, in
 * the order the step produced them.
 *
 * ```
 * offset  size  field
 *      0     8  magic "WEFTOUT" + format version (1)
 *      8     …  records, each:
 *                 1  kind: 0 stdout, 1 stderr, 2 log, 3 streamed part
 *                 4  the part's index (0 for a line), uint32 big-endian
 *                 4  text length in bytes, uint32 big-endian
 *                 …  text, UTF-8
 * ```
 *
 * Binary rather than JSON lines: a 64 KiB line is copied once, never
 * escaped, and reading it back needs no line splitter of unbounded length.
 * The file is not trusted when read: whoever replays it checks its digest
 * (a cache blob is named by it, a journal record carries it) before reading.
 */
import { createHash, randomBytes, type Hash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import type { LogStream } from "../Event.ts"
import { fileChunks } from "./fileChunks.ts"

const magic = Buffer.from("WEFTOUT\x01", "latin1")
const headerBytes = 9
/** Bytes gathered before a write: a write per this much output, and this much memory per spilling capture. */
const blockBytes = 256 * 1024

const kinds: ReadonlyArray<LogStream | "part"> = ["stdout", "stderr", "log", "part"]

/** One log line or streamed part, as read back. */
export type OutputRecord =
  | { readonly kind: "log"; readonly stream: LogStream; readonly text: string }
  | { readonly kind: "part"; readonly index: number; readonly text: string }

/** An output file being written (synchronously, as the step's lines arrive). */
export interface OutputFileWriter {
  readonly file: string
  readonly line: (stream: LogStream, text: string) => void
  readonly part: (index: number, text: string) => void
  /** Writes what is gathered and closes the file; its SHA-256 and size. */
  readonly close: () => { readonly digest: string; readonly bytes: number }
  /** Closes (if open) and removes the file. Never throws. */
  readonly remove: () => void
}

/**
 * Creates `file` (it must not exist) and returns its writer. Writes are
 * synchronous: lines arrive from a tap that cannot wait, and an asynchronous
 * writer would queue without bound behind a fast step. A failed write
 * throws; the caller decides what is then kept.
 */
export const openOutputFile = (file: string): OutputFileWriter => {
  const fd = fs.openSync(file, "wx")
  const hash: Hash = createHash("sha256")
  const block = Buffer.allocUnsafe(blockBytes)
  let used = 0
  let bytes = 0
  let open = true

  const writeOut = (data: Buffer) => {
    let done = 0
    while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done)
    hash.update(data)
    bytes += data.length
  }
  const flush = () => {
    if (used === 0) return
    writeOut(block.subarray(0, used))
    used = 0
  }
  const record = (kind: number, index: number, text: string) => {
    // At most 3 bytes per UTF-16 unit: room for that, or the exact size when it does not fit a block.
    if (headerBytes + text.length * 3 > blockBytes - used) {
      flush()
      if (headerBytes + text.length * 3 > blockBytes) {
        const body = Buffer.from(text, "utf8")
        const head = Buffer.allocUnsafe(headerBytes)
        head.writeUInt8(kind, 0)
        head.writeUInt32BE(index, 1)
        head.writeUInt32BE(body.length, 5)
        writeOut(head)
        writeOut(body)
        return
      }
    }
    const length = block.write(text, used + headerBytes, "utf8")
    block.writeUInt8(kind, used)
    block.writeUInt32BE(index, used + 1)
    block.writeUInt32BE(length, used + 5)
    used += headerBytes + length
  }
  magic.copy(block, 0)
  used = magic.length

  return {
    file,
    line: (stream, text) => record(kinds.indexOf(stream), 0, text),
    part: (index, text) => record(3, index, text),
    close: () => {
      if (open) {
        flush()
        open = false
        fs.closeSync(fd)
      }
      return { digest: hash.copy().digest("hex"), bytes }
    },
    remove: () => {
      if (open) {
        open = false
        try {
          fs.closeSync(fd)
        } catch {}
      }
      fs.rmSync(file, { force: true })
    }
  }
}

/** An output file whose bytes are not what they should be (a record cut short, an unknown kind, no magic). */
export class OutputFileError extends Error {
  override readonly name = "OutputFileError"
}

/**
 * The records of an output file, from its bytes in chunks (which may be
 * views of one reused buffer: see `fileChunks.ts`), as they are decoded. A
 * record cut between chunks is put together in one buffer kept for the
 * purpose, grown to the longest record: nothing is allocated per chunk.
 * Throws `OutputFileError` on bytes that are not such a file.
 */
export async function* readOutputRecords(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<OutputRecord> {
  let work = Buffer.allocUnsafe(blockBytes)
  /** Bytes of `work` in use: the start of a record the last chunk cut. */
  let held = 0
  let sawMagic = false
  for await (const chunk of chunks) {
    const input = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (held + input.length > work.length) {
      const grown = Buffer.allocUnsafe(Math.max(work.length * 2, held + input.length))
      work.copy(grown, 0, 0, held)
      work = grown
    }
    // Decoded from the chunk itself when nothing is held, else from `work`, where it is appended.
    const bytes = held === 0 ? input : work.subarray(0, held + input.copy(work, held))
    let at = 0
    if (!sawMagic) {
      if (bytes.length >= magic.length) {
        if (!bytes.subarray(0, magic.length).equals(magic)) throw new OutputFileError("not a weft output file (no valid header)")
        sawMagic = true
        at = magic.length
      }
    }
    while (sawMagic && bytes.length - at >= headerBytes) {
      const length = bytes.readUInt32BE(at + 5)
      if (bytes.length - at - headerBytes < length) break
      const kind = kinds[bytes.readUInt8(at)]
      if (kind === undefined) throw new OutputFileError(`unknown record kind ${bytes.readUInt8(at)}`)
      const text = bytes.toString("utf8", at + headerBytes, at + headerBytes + length)
      yield kind === "part" ? { kind: "part", index: bytes.readUInt32BE(at + 1), text } : { kind: "log", stream: kind, text }
      at += headerBytes + length
    }
    // The rest of a record, kept for the next chunk (the chunk may be reused once we ask for it).
    if (at < bytes.length) {
      if (bytes.length - at > work.length) work = Buffer.allocUnsafe(Math.max(work.length * 2, bytes.length - at))
      held = bytes === input ? input.copy(work, 0, at) : (work.copyWithin(0, at, bytes.length), bytes.length - at)
    } else {
      held = 0
    }
  }
  if (!sawMagic || held > 0) throw new OutputFileError("cut short")
}

/** The SHA-256 (hex) and size of `file`. */
export const digestFile = async (file: string): Promise<{ readonly digest: string; readonly bytes: number }> => {
  const hash = createHash("sha256")
  let bytes = 0
  for await (const chunk of fileChunks(file)) {
    hash.update(chunk)
    bytes += chunk.length
  }
  return { digest: hash.digest("hex"), bytes }
}

const swept = new Set<string>()

/**
 * New file names in `dir` for output being captured, `<pid>-<random>.out`.
 * The first asked in a process removes the files there of processes that are
 * gone (a run killed while a step printed): nothing else removes them.
 */
export const outputFilesIn = (dir: string) => (): string => {
  if (!swept.has(dir)) {
    swept.add(dir)
    sweepDead(dir)
  }
  return path.join(dir, `${process.pid}-${randomBytes(6).toString("hex")}.out`)
}

const sweepDead = (dir: string): void => {
  let names: Array<string>
  try {
    names = fs.readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-[0-9a-f]+\.out$/.exec(name)?.[1])
    if (!Number.isSafeInteger(pid) || pid === process.pid || alive(pid)) continue
    fs.rmSync(path.join(dir, name), { force: true })
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, and is someone else's.
    return (error as NodeJS.ErrnoException).code !== "ESRCH"
  }
}
