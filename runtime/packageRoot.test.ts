import { readFileSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { fromSource, isWeftFile, weftEntry, weftRoot, weftVersion } from "./packageRoot.ts"

const repo = path.resolve(import.meta.dirname, "..")

describe("packageRoot", () => {
  it("finds weft's folder by its package.json, whatever the depth of the module asking", () => {
    expect(weftRoot).toBe(repo)
    expect(weftVersion()).toBe((JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as { version: string }).version)
  })

  it("names entry points in the layout weft runs from: sources here, dist/ when built", () => {
    expect(fromSource).toBe(true)
    expect(weftEntry("runtime/internal/isolateBoot.ts")).toBe(path.join(repo, "runtime", "internal", "isolateBoot.ts"))
  })

  it("tells weft's own modules (sources and build) from a user's", () => {
    expect(isWeftFile(path.join(repo, "index.ts"))).toBe(true)
    expect(isWeftFile(path.join(repo, "runtime", "Run.ts"))).toBe(true)
    expect(isWeftFile(path.join(repo, "dist", "chunks", "chunk-ABC.js"))).toBe(true)
    expect(isWeftFile(path.join(repo, "examples", "hello.ts"))).toBe(false)
    expect(isWeftFile(path.join(repo, "runtimes", "x.ts"))).toBe(false)
    expect(isWeftFile("/elsewhere/index.ts")).toBe(false)
  })
})
