/**
 * The one folder weft keeps everything in for a workflow: `.weft` in the
 * workflow's folder, or the folder `$WEFT_DIR` (or the run option `weftDir`)
 * names.
 *
 * ```
 * .weft/
 *   cache/             the step cache and memoized calls ($WEFT_CACHE_DIR or cacheDir move it alone)
 *   history/           a record per run, reports, step durations
 *   runs/              run journals (weft run --resume)
 *   logs/              every line each step printed, per run
 *   file-hashes.json   digests of input files, by size and mtime
 *   step-digests/      function steps' source digests, by the texts they came from
 *   compile-cache/     Node's compile cache for isolated steps
 * ```
 *
 * Nothing is derived from the cache folder's parent: a cache moved to a
 * shared or temporary folder takes nothing else with it.
 */
import * as path from "node:path"

/** The folder for a workflow in `root`: `$WEFT_DIR` (relative to the current directory), else `root/.weft`. */
export const defaultWeftDir = (root: string): string => {
  const named = process.env.WEFT_DIR
  return named === undefined || named === "" ? path.join(root, ".weft") : path.resolve(named)
}

/** Whether the environment names the folder (`$WEFT_DIR`). */
export const weftDirNamed = (): boolean => (process.env.WEFT_DIR ?? "") !== ""

/** The default cache folder in `weftDir`. */
export const cacheDirIn = (weftDir: string): string => path.join(weftDir, "cache")

/** Where function steps' source digests are saved in `weftDir` (`watch/savedDigests.ts`). */
export const stepDigestsDirIn = (weftDir: string): string => path.join(weftDir, "step-digests")
