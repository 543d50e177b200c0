/**
 * A journaled step's declared output files (`cache.outputs`): recorded with
 * their digests when the step ends, and checked against the disk before
 * `--resume` replays it. A replay that trusted the disk would hand the next
 * steps a file deleted or edited since (they fail, or silently use the
 * edited bytes); so a file that differs is restored from the cache store
 * (by digest, verified on the way out) or else the step runs again.
 *
 * Files that match the globs but were not recorded are left alone, as a
 * cache hit leaves them: the step did not make them.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { CacheStore, StoredFile } from "../cache/CacheStore.ts"
import type { FileHasher } from "../cache/fileHashes.ts"
import { captureOutputs, refusedOutput, restoreOutputs, sameMode } from "../cache/outputs.ts"
import { describeError } from "../internal/describeError.ts"
import type { StepRun } from "../Pipeline.ts"

/** What the journal needs to record and check declared outputs (see `RunCacheParts.outputs`). */
export interface JournalOutputs {
  /** The workflow's folder: output globs and paths are relative to it. */
  readonly root: string
  /** The step's declared output globs (none: it declares none). */
  readonly globsOf: (step: StepRun) => ReadonlyArray<string>
  readonly hasher: () => FileHasher
  /** The cache store to restore from; `undefined` when the run does not use the cache. */
  readonly storeFor: ((warn: (message: string) => void) => CacheStore) | undefined
}

/**
 * The step's declared outputs as they are now, for its record; `undefined`
 * when it declares none.
 */
export const recordOutputs = async (outputs: JournalOutputs, step: StepRun): Promise<Array<StoredFile> | undefined> => {
  const globs = outputs.globsOf(step)
  if (globs.length === 0) return undefined
  const produced = await outputs.hasher().hashGlobs(outputs.root, globs)
  return (await captureOutputs(outputs.root, produced.files)).files
}

/** How a recorded output differs from the disk, or `undefined` when it does not. */
const differenceOf = async (root: string, file: StoredFile): Promise<"deleted" | "changed" | undefined> => {
  const absolute = path.join(root, file.path)
  let stat
  try {
    stat = await fs.lstat(absolute)
  } catch {
    return "deleted"
  }
  if (!stat.isFile() || stat.size !== file.size || !sameMode(stat.mode, file.mode)) return "changed"
  const digest = createHash("sha256").update(await fs.readFile(absolute)).digest("hex")
  return digest === file.digest ? undefined : "changed"
}

const describeDifferences = (found: ReadonlyArray<{ path: string; how: string }>): string => {
  const shown = found.slice(0, 3).map((f) => `${f.path} was ${f.how}`).join(", ")
  return found.length > 3 ? `${shown} (and ${found.length - 3} more)` : shown
}

/**
 * Whether the recorded outputs are on disk as recorded, restoring them from
 * the cache when they are not and it can: `true`, the step may be replayed;
 * `false`, it must run again. Each case is said through `say`.
 */
export const checkOutputs = async (
  outputs: JournalOutputs,
  step: StepRun,
  files: ReadonlyArray<StoredFile>,
  run: string,
  say: (text: string) => void
): Promise<boolean> => {
  // A record naming files the step does not declare (edited by hand, or forged) is not trusted for any of them.
  const refused = refusedOutput(outputs.root, files, outputs.globsOf(step))
  if (refused !== undefined) {
    say(`weft: journal: the record of ${step.id} in run ${run} is refused: ${refused}; running ${step.id} again`)
    return false
  }
  const found: Array<{ path: string; how: string }> = []
  for (const file of files) {
    const how = await differenceOf(outputs.root, file).catch((error) => `unreadable (${describeError(error)})`)
    if (how !== undefined) found.push({ path: file.path, how })
  }
  if (found.length === 0) return true
  const what = `${describeDifferences(found)} since run ${run} recorded ${step.id}`
  if (outputs.storeFor !== undefined) {
    const warn = (message: string) => say(`weft: cache: ${message}`)
    const store = outputs.storeFor(warn)
    const restored = await restoreOutputs(outputs.root, files, outputs.globsOf(step), store, warn).catch((error) => {
      warn(`restoring: ${describeError(error)}`)
      return false
    })
    // Checked again: the file on disk, not the restore's word, is what the next steps read.
    if (restored && (await Promise.all(files.map((file) => differenceOf(outputs.root, file).catch(() => "changed")))).every((d) => d === undefined)) {
      say(`weft: journal: ${what}; restored ${found.length === 1 ? "it" : "them"} from the cache`)
      return true
    }
  }
  say(`weft: journal: ${what}; running ${step.id} again`)
  return false
}
