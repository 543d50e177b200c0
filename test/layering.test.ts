/**
 * The layering a newcomer can see: dsl → runtime → tui → cli. A module may
 * import its own layer and those before it, never one after it (the engine
 * never knows its dashboard, the definitions never know the engine); and no
 * module reaches into another folder's `internal/` (a folder's public face is
 * its other modules). Checked on every static and dynamic relative import of
 * weft's own non-test modules.
 */
import { readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"

const root = path.resolve(import.meta.dirname, "..")
const layers = ["dsl", "runtime", "tui", "cli"] as const

/** Relative imports in `source`: `from "…"`, `import("…")` and `export … from "…"`. */
const importsOf = (source: string): Array<string> =>
  [...source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm)].map((m) => m[1]!)

/**
 * Every import that breaks a rule, as "from -> to (rule)". `files` maps a
 * module's path (relative to the root, `/`-separated) to its source.
 */
export const violations = (files: ReadonlyMap<string, string>): Array<string> => {
  const found: Array<string> = []
  const layerOf = (file: string) => layers.indexOf(file.split("/")[0] as (typeof layers)[number])
  for (const [file, source] of files) {
    for (const specifier of importsOf(source)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier))
      const [from, to] = [layerOf(file), layerOf(target)]
      if (to > from && from >= 0) found.push(`${file} -> ${target} (${layers[from]} may not import ${layers[to]})`)
      const internal = target.indexOf("/internal/")
      if (internal >= 0 && !file.startsWith(target.slice(0, internal + 1))) found.push(`${file} -> ${target} (another folder's internal/)`)
    }
  }
  return found.sort()
}

const modules = (): Map<string, string> => {
  const files = new Map<string, string>()
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`
      if (entry.isDirectory()) walk(rel)
      else if (entry.name.endsWith(".ts") && !/\.(test|contract)\.ts$/.test(entry.name)) files.set(rel, readFileSync(path.join(root, rel), "utf8"))
    }
  }
  for (const layer of layers) walk(layer)
  files.set("index.ts", readFileSync(path.join(root, "index.ts"), "utf8"))
  return files
}

/**
 * Known breaks, each to be removed by the change that fixes it (issue 13):
 * the list may only shrink, and an entry that no longer occurs fails too.
 */
const known: ReadonlyArray<string> = []

describe("layering", () => {
  it("catches an import against the layers and one into another folder's internal/", () => {
    const files = new Map([
      ["dsl/a.ts", `import { run } from "../runtime/Run.ts"`],
      ["runtime/b.ts", `const x = await import("../cli/main.ts")\nimport { y } from "./internal/own.ts"`],
      ["tui/c.ts", `export { Heap } from "../runtime/internal/Heap.ts"\nimport { d } from "../dsl/Workflow.ts"`],
      ["cli/d.ts", `import { e } from "../tui/index.ts"`]
    ])
    expect(violations(files)).toEqual([
      "dsl/a.ts -> runtime/Run.ts (dsl may not import runtime)",
      "runtime/b.ts -> cli/main.ts (runtime may not import cli)",
      "tui/c.ts -> runtime/internal/Heap.ts (another folder's internal/)"
    ])
  })

  it("holds for weft's modules, but for the known breaks still listed", () => {
    expect(violations(modules())).toEqual([...known].sort())
  })
})
