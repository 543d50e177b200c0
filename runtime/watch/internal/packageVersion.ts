/**
 * Which version of a package a module imports: the one input of a step's
 * digest that is not in the module texts. Apart from `imports.ts` so that
 * checking saved digests (`savedDigests.ts`) does not load the parser.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs"
import * as path from "node:path"

/** The version of the package `specifier` names, installed in a node_modules folder above `from` (not linked from elsewhere). */
export const installedVersion = (from: string, specifier: string): string | undefined => {
  if (specifier.startsWith("#") || /^[a-z][a-z0-9+.-]*:/i.test(specifier)) return undefined
  const parts = specifier.split("/")
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    const folder = path.join(dir, "node_modules", name)
    if (existsSync(path.join(folder, "package.json"))) {
      try {
        if (!realpathSync(folder).split(path.sep).includes("node_modules")) return undefined
        const version = (JSON.parse(readFileSync(path.join(folder, "package.json"), "utf8")) as { version?: unknown }).version
        return typeof version === "string" ? version : undefined
      } catch {
        return undefined
      }
    }
    if (path.dirname(dir) === dir) return undefined
  }
}
