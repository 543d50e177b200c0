/**
 * A file name for a step id or workflow name, which may hold `:` (`.each`
 * steps), `/`, spaces or anything else. Names that are already plain
 * (lowercase letters, digits, `.`, `_`, `-`) are kept as they are, so the
 * usual `build.log` is what a user looks for; any other name is slugged and
 * gets a hash of the original, so `a:b` and `a/b`, or `Build` and `build` on a
 * case-insensitive disk, never share a file.
 */
import { createHash } from "node:crypto"

// Names Windows will not create, whatever the extension.
const reserved = /^(con|prn|aux|nul|com\d|lpt\d)(\.|$)/

/** `build` → `build`; `checks:lint` → `checks_lint-1f2e3d4c`. */
export const safeFileName = (name: string): string => {
  if (/^[a-z0-9][a-z0-9._-]{0,79}$/.test(name) && !reserved.test(name) && !name.endsWith(".")) return name
  const slug = name.toLowerCase().replace(/[^a-z0-9._-]+/g, "_").replace(/^[._-]+/, "").slice(0, 60)
  return `${slug === "" ? "_" : slug}-${createHash("sha256").update(name).digest("hex").slice(0, 8)}`
}
