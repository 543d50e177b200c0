/**
 * Where weft is installed, and in which form. weft runs in three layouts:
 * its TypeScript sources (this repository), the bundle that `npm run build`
 * writes into `dist/` (what an installed package runs: entries in
 * `dist/…`, shared code in `dist/chunks/`), and, in tests, tsc's file-per-file
 * output. A module cannot know its depth below the root from its own URL once
 * bundled (the same code may land in an entry or in a chunk), so the root is
 * the nearest folder above with weft's package.json.
 */
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** True when weft runs from its .ts sources, false when from built JavaScript. */
export const fromSource = import.meta.url.endsWith(".ts")

const isWeftPackage = (dir: string): boolean => {
  const file = path.join(dir, "package.json")
  if (!existsSync(file)) return false
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === "weft"
  } catch {
    return false
  }
}

const findRoot = (): string => {
  const here = path.dirname(fileURLToPath(import.meta.url))
  for (let dir = here; ; dir = path.dirname(dir)) {
    if (isWeftPackage(dir)) return dir
    if (path.dirname(dir) === dir) break
  }
  // A copy without its package.json (never shipped so): the layout's own depth.
  return path.resolve(here, fromSource ? ".." : "../..")
}

declare const WEFT_BUILD_ID: string | undefined

/**
 * Built: the digest of every source file the build was made from (set by
 * scripts/build.ts), so that what depends on weft's own code can key on it.
 * From the sources: undefined.
 */
export const buildId: string | undefined = typeof WEFT_BUILD_ID === "string" ? WEFT_BUILD_ID : undefined

/** weft's install folder: the one holding its package.json. */
export const weftRoot = findRoot()

/** weft's version, from its package.json. */
export const weftVersion = (): string => {
  try {
    return String((JSON.parse(readFileSync(path.join(weftRoot, "package.json"), "utf8")) as { version?: unknown }).version)
  } catch {
    return "unknown"
  }
}

/**
 * The file of one of weft's entry points, as this layout has it: `source` is
 * its path in the sources (`runtime/internal/isolateBoot.ts`); built, it is
 * the same path under `dist/` with a `.js` extension.
 */
export const weftEntry = (source: string): string =>
  fromSource ? path.join(weftRoot, source) : path.join(weftRoot, "dist", source.replace(/\.ts$/, ".js"))

/** Where weft's own modules are, below its folder: the entry file and the folders (sources and build). */
export const weftModules = { entry: "index.ts", folders: ["dsl", "runtime", "tui", "cli", "dist"] } as const

/** Whether `file` is one of weft's own modules (sources or built), not the user's. */
export const isWeftFile = (file: string): boolean =>
  file === path.join(weftRoot, weftModules.entry) || weftModules.folders.some((folder) => file.startsWith(path.join(weftRoot, folder) + path.sep))
