/**
 * The local modules a workflow file depends on, hashed: a function step's key
 * includes them, so editing a helper the step calls (even in another file)
 * changes the key. Packages (`effect`, `weft`) are not followed: their
 * versions are pinned by the lockfile, and hashing node_modules would cost
 * more than it is worth.
 */
import { createHash } from "node:crypto"
import { existsSync, readFileSync, statSync } from "node:fs"
import * as path from "node:path"

const specifiers = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["']([^"']+)["']/g
const extensions = [".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".jsx", ".json"]

/** Resolves a relative specifier the way TypeScript projects write them (`./x`, `./x.js` for `./x.ts`, `./dir`). */
export const resolveLocal = (from: string, specifier: string): string | undefined => {
  const base = path.resolve(path.dirname(from), specifier)
  const candidates = [
    base,
    ...extensions.map((ext) => base + ext),
    ...(/\.[cm]?jsx?$/.test(base) ? [".ts", ".tsx", ".mts", ".cts"].map((ext) => base.replace(/\.[cm]?jsx?$/, ext)) : []),
    ...extensions.map((ext) => path.join(base, `index${ext}`))
  ]
  return candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile())
}

const readText = (file: string): string | undefined => {
  try {
    return readFileSync(file, "utf8")
  } catch {
    return undefined
  }
}

/**
 * Every local file `entry` imports, directly or not, with `entry` itself:
 * absolute paths. `read` gives a file's text (default: from disk; watch mode
 * passes the texts a workflow was loaded from); a file without one is listed
 * but not followed.
 */
export const localModules = (entry: string, read: (file: string) => string | undefined = readText): Array<string> => {
  const seen = new Set<string>()
  const stack = [path.resolve(entry)]
  while (stack.length > 0) {
    const file = stack.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    const text = read(file)
    if (text === undefined) continue
    for (const match of text.matchAll(specifiers)) {
      const specifier = match[1]!
      if (!specifier.startsWith(".") && !specifier.startsWith("/")) continue
      const resolved = resolveLocal(file, specifier)
      if (resolved !== undefined && !resolved.includes(`${path.sep}node_modules${path.sep}`)) stack.push(resolved)
    }
  }
  return [...seen].sort()
}

/** One digest over the contents of `entry` and every local module it imports. */
export const moduleGraphDigest = (entry: string): string => {
  const root = path.dirname(path.resolve(entry))
  const hash = createHash("sha256")
  for (const file of localModules(entry)) {
    hash.update(path.relative(root, file)).update("\0")
    hash.update(createHash("sha256").update(readFileSync(file)).digest("hex")).update("\n")
  }
  return hash.digest("hex")
}
