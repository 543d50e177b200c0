/**
 * A step's declared output files (`cache.outputs`), between the machines of
 * a run with workers. A worker and its coordinator have folders of their
 * own: without this, a step run on a worker made its files there, the
 * coordinator's cache recorded the step with none (its globs matched nothing
 * here), and a dependent elsewhere did not find them.
 *
 * So a worker sends back, with the step's value, the files its declared
 * outputs match in its folder, and the coordinator writes them into its own
 * before the step ends there (the cache and the journal then find them as
 * if the step had run here). A job carries the declared outputs of the
 * steps ordered before its step, as they are in the coordinator's folder,
 * and the worker writes them into its folder before it runs the body.
 *
 * Both sides write only what the receiving side's own definition declares
 * (`refusedOutput`: a path the step's globs match, inside the folder, not
 * through a symlink, not in `.weft`), through a temporary file and a rename.
 * They travel through Redis with the value, so their size is bounded
 * (`maxTravelBytes`); a step whose outputs are larger is pinned with
 * `runsOn: "local"`.
 */
import { readFile, stat } from "node:fs/promises"
import * as path from "node:path"
import type { FileHasher } from "../cache/fileHashes.ts"
import { refusedOutput, writeOutputFile } from "../cache/outputs.ts"

/** A file on its way: its path relative to the workflow's folder (`/`-separated), permission bits and bytes. */
export interface TravelFile {
  readonly path: string
  readonly mode: number
  readonly bytes: Uint8Array
}

/** 32 MB: what Redis carries well in one value; more goes through a shared cache or stays on one machine. */
export const maxTravelBytes = 32 * 1024 * 1024

/** The files under `root` that `globs` match, read; `what` names them in the error when they are too large. */
export const collectFiles = async (hasher: FileHasher, root: string, globs: ReadonlyArray<string>, what: string): Promise<Array<TravelFile>> => {
  if (globs.length === 0) return []
  const { files } = await hasher.hashGlobs(root, globs)
  const collected: Array<TravelFile> = []
  let total = 0
  for (const file of files) {
    const absolute = path.join(root, file.path)
    const [bytes, info] = await Promise.all([readFile(absolute), stat(absolute)])
    total += bytes.byteLength
    if (total > maxTravelBytes) {
      throw new Error(`${what} are more than ${maxTravelBytes / 1024 / 1024} MB, more than travels between the machines of a run: pin the step with runsOn: "local", or make its outputs smaller`)
    }
    collected.push({ path: file.path, mode: info.mode & 0o777, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) })
  }
  return collected
}

/**
 * Writes `files` into `root`, each only if `globs` (the receiving side's own
 * declaration) allow it there; rejects, writing nothing, when one is refused.
 */
export const writeFiles = async (root: string, files: ReadonlyArray<TravelFile>, globs: ReadonlyArray<string>, from: string): Promise<void> => {
  const problem = refusedOutput(root, files.map((file) => ({ path: file.path, digest: "", size: file.bytes.byteLength, mode: file.mode })), globs)
  if (problem !== undefined) throw new Error(`files from ${from} refused: ${problem}`)
  for (const file of files) await writeOutputFile(path.join(root, file.path), file.bytes, file.mode)
}
