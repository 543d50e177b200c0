/**
 * weft as users run it: built by `npm run build` (scripts/build.ts) and
 * installed in a temporary project's node_modules, with weft's dependencies
 * linked beside it. The project is outside this repository: inside, `weft`
 * would resolve to the repository itself.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { buildPackage } from "../scripts/build.ts"

const root = fileURLToPath(new URL("..", import.meta.url))

export interface InstalledProject {
  /** The project's folder. */
  readonly dir: string
  /** The installed bin/weft.js (a script for `node`). */
  readonly bin: string
  /** The `weft` command as npm links it (node_modules/.bin/weft, the launcher: a shell script). */
  readonly launcher: string
  readonly remove: () => void
}

/** A fresh project with weft installed; `files` are written into it (name → text). */
export const installedProject = async (files: Readonly<Record<string, string>> = {}): Promise<InstalledProject> => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-bench-installed-"))
  const modules = path.join(dir, "node_modules")
  const weft = path.join(modules, "weft")
  mkdirSync(weft, { recursive: true })
  for (const name of readdirSync(path.join(root, "node_modules"))) {
    if (name !== "weft" && !name.startsWith(".")) symlinkSync(path.join(root, "node_modules", name), path.join(modules, name))
  }
  cpSync(path.join(root, "package.json"), path.join(weft, "package.json"))
  cpSync(path.join(root, "bin"), path.join(weft, "bin"), { recursive: true })
  mkdirSync(path.join(modules, ".bin"))
  symlinkSync(path.join("..", "weft", "bin", "weft"), path.join(modules, ".bin", "weft"))
  await buildPackage(path.join(weft, "dist"))
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-project", private: true, type: "module" }))
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text)
  return { dir, bin: path.join(weft, "bin", "weft.js"), launcher: path.join(modules, ".bin", "weft"), remove: () => rmSync(dir, { recursive: true, force: true }) }
}
