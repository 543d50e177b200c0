/**
 * What an imported module stands for in a step's digest, and whether loading
 * it may write state other code reads.
 *
 * - A local module: the texts it was loaded from, its own and those of every
 *   local module it imports, as watch mode read them around the load. Its
 *   load may write when any of those modules has a top-level statement that
 *   may (`loadEffects.ts`). Not pinned when one of them cannot be read as
 *   Node runs it, or uses `import.meta` (it changes with every reload), a
 *   computed `import()` or `require`.
 * - weft itself, a Node builtin, or a package installed in node_modules:
 *   its name (and the package's version). A package's code does not change
 *   while watching (Node evaluates it once per process), but the edit that
 *   first imports it runs its top level (a polyfill, a registry): which
 *   packages the local modules import, in which order, is in every digest
 *   (`packages`).
 * - Anything else (a path alias, a linked package, `#imports`, a URL, a file
 *   that was not read with the module) cannot be pinned: no digest.
 */
import { createHash } from "node:crypto"
import { isBuiltin } from "node:module"
import * as path from "node:path"
import { localModules, resolveLocal } from "../../cache/moduleGraph.ts"
import { isWeftFile } from "../../packageRoot.ts"
import { makeLoadEffects } from "./loadEffects.ts"
import { installedVersion } from "./packageVersion.ts"
import { parseModule } from "./syntax.ts"
import { mayHoldState } from "./sharedState.ts"
import { topLevelOf, type TopLevel } from "./topLevel.ts"

export interface Import {
  /** `undefined` when it cannot be pinned. */
  readonly digest: string | undefined
  /** Loading it (again, on a reload) may write state that code elsewhere reads. */
  readonly writes: boolean
}

export interface Imports {
  /** What `specifier`, imported by `from`, stands for. */
  readonly of: (from: string, specifier: string) => Import
  /** `specifier`, imported by `from`, is weft's own builder. */
  readonly isWeft: (from: string, specifier: string) => boolean
  /** The packages each local module imports, in order: a new one runs its top level when first imported. */
  readonly packages: () => string
  /**
   * Whether what `specifier` (imported by `from`) exports may carry state
   * steps change while they run: a local module with a top-level binding
   * that may hold state, itself or through its local imports (see
   * `sharedState.ts`). weft, builtins and packages: no.
   */
  readonly holdsState: (from: string, specifier: string) => boolean
}

// weft's own modules (isWeftFile) are never re-imported on a reload (see `freshImports.ts`): always the same builder.

const isLocal = (specifier: string) => specifier.startsWith(".") || specifier.startsWith("/")

/** A package version a digest was computed with: `installedVersion(from, specifier)` then (`null`: none). */
export interface PackageRead {
  readonly from: string
  readonly specifier: string
  readonly version: string | null
}

/**
 * `texts`: the module files as they were loaded (absolute path → text);
 * `root`: the folder digests name files relative to; `onPackage`: told each
 * package version read from disk, the one input not in the texts (so saved
 * digests can be checked against it, `savedDigests.ts`).
 */
export const makeImports = (texts: ReadonlyMap<string, string>, root: string, onPackage?: (read: PackageRead) => void): Imports => {
  const writesCache = new Map<string, boolean>()
  const cache = new Map<string, Import>()

  const isWeft = (from: string, specifier: string): boolean => {
    if (specifier === "weft" || specifier.startsWith("weft/")) return true
    const file = isLocal(specifier) ? resolveLocal(from, specifier) : undefined
    return file !== undefined && isWeftFile(file)
  }

  const tops = new Map<string, TopLevel | undefined>()
  const topOf = (file: string): TopLevel | undefined => {
    if (!tops.has(file)) {
      const parsed = parseModule(file, texts.get(file)!)
      tops.set(file, parsed === undefined ? undefined : topLevelOf(parsed))
    }
    return tops.get(file)
  }

  /** Whether the module's own top-level code may write (its imports are looked at on their own). */
  const fileWrites = (file: string): boolean => {
    const known = writesCache.get(file)
    if (known !== undefined) return known
    const top = file.endsWith(".json") ? "data" : topOf(file)
    let writes = top === undefined
    if (top !== undefined && top !== "data") {
      const effects = makeLoadEffects(top, (specifier) => isWeft(file, specifier))
      writes = top.evals || top.statements.some((unit) => effects.statementWrites(unit.nodes[0]!))
    }
    writesCache.set(file, writes)
    return writes
  }

  const isPackage = (from: string, specifier: string) => !isLocal(specifier) && !isBuiltin(specifier) && !isWeft(from, specifier)

  const packages = (): string => {
    const lines: Array<string> = []
    for (const file of [...texts.keys()].sort()) {
      if (isWeftFile(file) || file.endsWith(".json")) continue
      const specifiers = topOf(file)?.statements.flatMap((unit) => unit.imports.filter((s) => isPackage(file, s)))
      // A module not read (it writes, and is in every digest whole) says nothing here.
      if (specifiers !== undefined && specifiers.length > 0) lines.push(`${path.relative(root, file)}: ${specifiers.join(" ")}`)
    }
    return lines.join("\n")
  }

  const local = (file: string): Import => {
    let missing = false
    const files = localModules(file, (f) => {
      const text = texts.get(f)
      missing ||= text === undefined && !isWeftFile(f)
      return isWeftFile(f) ? undefined : text
    }).filter((f) => !isWeftFile(f))
    // Not read with the module: what was loaded is unknown, and so is what its load did.
    if (missing) return { digest: undefined, writes: true }
    const writes = files.some(fileWrites)
    // Read by the same rules as the workflow module: a module that cannot be, or uses `import.meta`, is not pinned by its text.
    if (files.some((f) => !f.endsWith(".json") && (topOf(f) === undefined || topOf(f)!.statements.some((unit) => unit.opaque)))) {
      return { digest: undefined, writes }
    }
    const hash = createHash("sha256")
    for (const f of files) hash.update(path.relative(root, f)).update("\0").update(texts.get(f)!).update("\0")
    return { digest: `local:${hash.digest("hex")}`, writes }
  }

  const of = (from: string, specifier: string): Import => {
    const key = `${from}\0${specifier}`
    const known = cache.get(key)
    if (known !== undefined) return known
    let found: Import
    if (isWeft(from, specifier)) found = { digest: "weft", writes: false }
    else if (isLocal(specifier)) {
      const file = resolveLocal(from, specifier)
      found = file === undefined ? { digest: undefined, writes: true } : local(file)
    } else if (isBuiltin(specifier)) found = { digest: `builtin:${specifier}`, writes: false }
    else {
      // What its first import did is for `packages` to follow.
      const version = installedVersion(from, specifier)
      onPackage?.({ from, specifier, version: version ?? null })
      found = { digest: version === undefined ? undefined : `package:${specifier}@${version}`, writes: false }
    }
    cache.set(key, found)
    return found
  }

  const stateful = new Map<string, boolean>()
  const moduleHoldsState = (file: string): boolean => {
    const known = stateful.get(file)
    if (known !== undefined) return known
    // A cycle back here adds nothing new: assume no, and let the rest of the cycle decide.
    stateful.set(file, false)
    let holds: boolean
    if (file.endsWith(".json")) holds = true // an imported object, shared by whoever imports it
    else {
      const top = texts.has(file) ? topOf(file) : undefined
      holds = top === undefined || [...top.bindings.values()].some((bindings) =>
        bindings.some((binding) => binding.kind === "import" ? holdsState(file, binding.source!) : mayHoldState(binding))
      )
    }
    stateful.set(file, holds)
    return holds
  }
  const holdsState = (from: string, specifier: string): boolean => {
    if (isWeft(from, specifier) || !isLocal(specifier)) return false
    const file = resolveLocal(from, specifier)
    return file === undefined || isWeftFile(file) ? file === undefined : moduleHoldsState(file)
  }

  return { of, isWeft, packages, holdsState }
}
