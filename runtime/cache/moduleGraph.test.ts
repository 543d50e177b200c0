import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { localModules, moduleGraphDigest } from "./moduleGraph.ts"

const project = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-graph-"))
  mkdirSync(path.join(dir, "lib"))
  writeFileSync(path.join(dir, "wf.ts"), `import { workflow } from "weft"\nimport { a } from "./lib/a.js"\nexport default workflow("w")`)
  writeFileSync(path.join(dir, "lib/a.ts"), `export { b } from "./b"\nexport const a = 1`)
  writeFileSync(path.join(dir, "lib/b.ts"), `const c = await import("./c.ts")\nexport const b = 2`)
  writeFileSync(path.join(dir, "lib/c.ts"), `export const c = 3`)
  writeFileSync(path.join(dir, "unrelated.ts"), `export const u = 0`)
  return dir
}

describe("module graph", () => {
  it("follows local imports (./x.js naming x.ts, extensionless, dynamic), not packages", () => {
    const dir = project()
    expect(localModules(path.join(dir, "wf.ts")).map((f) => path.relative(dir, f))).toEqual(["lib/a.ts", "lib/b.ts", "lib/c.ts", "wf.ts"])
  })

  it("changes when a transitively imported file changes, not when an unrelated one does", () => {
    const dir = project()
    const before = moduleGraphDigest(path.join(dir, "wf.ts"))
    writeFileSync(path.join(dir, "unrelated.ts"), `export const u = 1`)
    expect(moduleGraphDigest(path.join(dir, "wf.ts"))).toBe(before)
    writeFileSync(path.join(dir, "lib/c.ts"), `export const c = 4`)
    expect(moduleGraphDigest(path.join(dir, "wf.ts"))).not.toBe(before)
  })
})
