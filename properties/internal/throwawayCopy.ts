/**
 * A throwaway copy of a workflow's folder, so that runs which write files
 * neither disturb each other nor the user's tree. `.weft` stays behind (a
 * run's cache and history are not the workflow's), and `node_modules` is
 * linked, not copied: it is large and steps only read it.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export interface ThrowawayCopy {
  readonly dir: string
  readonly remove: () => void
}

const skipped = new Set([".weft", "node_modules"])

export const makeThrowawayCopy = (folder: string): ThrowawayCopy => {
  const root = path.resolve(folder)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "weft-verify-"))
  fs.cpSync(root, dir, {
    recursive: true,
    filter: (source) => !skipped.has(path.relative(root, source))
  })
  const modules = path.join(root, "node_modules")
  if (fs.existsSync(modules)) fs.symlinkSync(modules, path.join(dir, "node_modules"), "dir")
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) }
}
