import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { unsafePath } from "./outputs.ts"

describe("restore paths", () => {
  const root = mkdtempSync(path.join(tmpdir(), "weft-out-"))
  mkdirSync(path.join(root, "dist"))
  symlinkSync("/etc", path.join(root, "etc-link"))
  symlinkSync("..", path.join(root, "dist", "up"))
  writeFileSync(path.join(root, "dist", "a.js"), "")

  it.for([
    ["../escape"], ["/abs"], ["////abs"], ["C:..\\x"], ["dir\\..\\x"], ["dist/../../x"], ["etc-link/passwd"], ["dist/up/x"], ["dist//a"], [""]
  ])("refuses %s", ([p]) => {
    expect(unsafePath(root, p!)).toBeDefined()
  })

  it.for([["dist/a.js"], ["dist/new/b.js"], ["c.txt"]])("allows %s", ([p]) => {
    expect(unsafePath(root, p!)).toBeUndefined()
  })
})
