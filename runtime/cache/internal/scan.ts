/**
 * Reading the file store's directories: the files in a fanned-out directory
 * and the meta of entry files, tolerating files that vanish meanwhile (a
 * concurrent prune, delete or clear in another process).
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { isErrno } from "../../internal/atomic.ts"
import { decodeEntryMeta, headerBytes, type EntryMeta } from "./entryFile.ts"

/** An entry file found by a scan of the store. */
export type Scanned =
  | { readonly ok: true; readonly key: string; readonly meta: EntryMeta; readonly bytes: number; readonly mtimeMs: number; readonly ino: number }
  | { readonly ok: false; readonly key: string; readonly problem: string; readonly bytes: number; readonly ino: number }

export interface FileOnDisk {
  readonly name: string
  readonly file: string
  readonly bytes: number
  readonly mtimeMs: number
  readonly ino: number
}

/** The names in `dir`, or none when it does not exist (a concurrent clear may remove it). */
const namesIn = async (dir: string): Promise<Array<string>> => {
  try {
    return await fs.readdir(dir)
  } catch (error) {
    if (isErrno(error, "ENOENT", "ENOTDIR")) return []
    throw error
  }
}

/** The files directly inside `dir`, or none when it does not exist; files vanishing meanwhile are skipped. */
export const filesIn = async (dir: string): Promise<Array<FileOnDisk>> => {
  const names = await namesIn(dir)
  const found = await Promise.all(names.map(async (name) => {
    const file = path.join(dir, name)
    try {
      const stat = await fs.stat(file)
      return stat.isFile() ? { name, file, bytes: stat.size, mtimeMs: Math.round(stat.mtimeMs), ino: stat.ino } : undefined
    } catch (error) {
      if (isErrno(error, "ENOENT")) return undefined
      throw error
    }
  }))
  return found.filter((f) => f !== undefined)
}

/** The files two levels down (`<fan-out>/<name>`) whose name passes `accept`. */
export const fannedFiles = async (dir: string, accept: (name: string) => boolean): Promise<Array<FileOnDisk>> => {
  const shards = await namesIn(dir)
  const nested = await Promise.all(shards.map((shard) => filesIn(path.join(dir, shard))))
  return nested.flat().filter((f) => accept(f.name) && path.basename(path.dirname(f.file)) === f.name.slice(0, 2))
}

/** Reads just enough of an entry file for its meta. */
export const readMeta = async (file: FileOnDisk): Promise<Scanned | undefined> => {
  let handle: fs.FileHandle
  try {
    handle = await fs.open(file.file, "r")
  } catch (error) {
    if (isErrno(error, "ENOENT")) return undefined
    throw error
  }
  try {
    const stat = await handle.stat()
    const first = Buffer.alloc(Math.min(stat.size, 4096))
    const { bytesRead } = await handle.read(first, 0, first.length, 0)
    let prefix = first.subarray(0, bytesRead)
    const metaLength = prefix.length >= headerBytes ? prefix.readUInt32BE(8) : 0
    if (prefix.length >= headerBytes && headerBytes + metaLength > prefix.length && headerBytes + metaLength <= stat.size) {
      const whole = Buffer.alloc(headerBytes + metaLength)
      const more = await handle.read(whole, 0, whole.length, 0)
      prefix = whole.subarray(0, more.bytesRead)
    }
    const decoded = decodeEntryMeta(prefix, stat.size)
    return decoded.ok
      ? { ok: true, key: file.name, meta: decoded.value, bytes: stat.size, mtimeMs: Math.round(stat.mtimeMs), ino: stat.ino }
      : { ok: false, key: file.name, problem: decoded.problem, bytes: stat.size, ino: stat.ino }
  } finally {
    await handle.close()
  }
}
