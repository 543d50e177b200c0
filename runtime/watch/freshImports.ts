/**
 * Makes a re-import of a workflow file re-import the local modules it
 * imports too. `loadWorkflow` imports an edited file again under a
 * `?weft=<time>` query, which defeats the module cache for that file only:
 * its `./helpers.ts` would still be the copy loaded first, so an edit to a
 * helper would never be seen. This resolve hook hands the query on to every
 * relative import of a module loaded with one, so each reload gets a fresh
 * copy of the local module graph (and nothing else: packages and absolute
 * imports resolve as usual, and so do weft's own modules, even imported by a
 * relative path: a second copy of weft's runtime would have its own memo
 * scope and process table).
 *
 * Node never unloads modules: each reload of an edited workflow keeps its
 * copy of the local modules in memory (a few kilobytes each, per edit).
 */
import * as nodeModule from "node:module"
import { fileURLToPath } from "node:url"
import { isWeftFile } from "../packageRoot.ts"

let installed = false

/** The user's own modules among `modules` (the entry's local import graph): not the entry, not weft's own (never re-imported). */
export const importedModules = (entry: string, modules: ReadonlyArray<string>): Array<string> =>
  modules.filter((file) => file !== entry && !isWeftFile(file))

/**
 * Installs the hook once per process. Returns false on a Node without
 * `module.registerHooks` (before 22.15), where a reload cannot re-import the
 * local modules: the caller must not pretend it did.
 */
export const installFreshImports = (): boolean => {
  const register = (nodeModule as { registerHooks?: (hooks: object) => unknown }).registerHooks
  if (register === undefined) return false
  if (installed) return true
  installed = true
  register({
    resolve(
      specifier: string,
      context: { readonly parentURL?: string | undefined },
      nextResolve: (specifier: string, context: object) => { url: string }
    ) {
      const resolved = nextResolve(specifier, context)
      const parent = context.parentURL
      if (parent === undefined || !(specifier.startsWith("./") || specifier.startsWith("../"))) return resolved
      if (!parent.startsWith("file:") || !resolved.url.startsWith("file:") || resolved.url.includes("?")) return resolved
      const version = new URL(parent).searchParams.get("weft")
      if (version === null || resolved.url.includes("/node_modules/")) return resolved
      if (isWeftFile(fileURLToPath(resolved.url))) return resolved
      return { ...resolved, url: `${resolved.url}?weft=${encodeURIComponent(version)}` }
    }
  })
  return true
}
