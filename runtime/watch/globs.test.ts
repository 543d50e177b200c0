import * as path from "node:path"
import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { coversFolder, expandBraces, matches, matchesAny, mayContain, patternsOf } from "./globs.ts"

const root = path.resolve("/w")
const at = (rel: string) => path.join(root, rel)
const one = (glob: string) => {
  const [pattern] = patternsOf(root, glob)
  return pattern!
}

describe("patternsOf", () => {
  it("splits a glob into the folder it starts from and the rest", () => {
    expect(one("src/**/*.ts")).toMatchObject({ base: at("src"), glob: "**/*.ts" })
    expect(one("*.txt")).toMatchObject({ base: root, glob: "*.txt" })
    expect(one("package.json")).toMatchObject({ base: at("package.json"), glob: "" })
    expect(one("../shared/*.ts")).toMatchObject({ base: path.resolve("/shared"), glob: "*.ts" })
  })

  it("gives each brace alternative its own base", () => {
    expect(expandBraces("{src,lib/{a,b}}/*.ts")).toEqual(["src/*.ts", "lib/a/*.ts", "lib/b/*.ts"])
    expect(patternsOf(root, "{src,lib}/**").map((p) => p.base)).toEqual([at("src"), at("lib")])
    expect(expandBraces("a{b}c")).toEqual(["a{b}c"])
  })
})

describe("matches", () => {
  it("matches files as fs.glob expands cache.inputs: * and ** skip dot-files and node_modules unless named", () => {
    expect(matches(one("src/**/*.ts"), at("src/a/b.ts"))).toBe(true)
    expect(matches(one("src/**/*.ts"), at("src/b.ts"))).toBe(true)
    expect(matches(one("src/**/*.ts"), at("src/b.js"))).toBe(false)
    expect(matches(one("src/**/*.ts"), at("lib/b.ts"))).toBe(false)
    expect(matches(one("*.txt"), at(".hidden.txt"))).toBe(false)
    expect(matches(one("**/*.js"), at("node_modules/x/i.js"))).toBe(false)
    expect(matches(one("node_modules/x/*.js"), at("node_modules/x/i.js"))).toBe(true)
    expect(matches(one("package.json"), at("package.json"))).toBe(true)
    expect(matches(one("package.json"), at("sub/package.json"))).toBe(false)
  })
})

describe("mayContain", () => {
  it("says which folders the watcher must descend into", () => {
    const src = one("src/**/*.ts")
    expect(mayContain(src, root)).toBe(true) // on the way to the base
    expect(mayContain(src, at("src"))).toBe(true)
    expect(mayContain(src, at("src/deep/er"))).toBe(true)
    expect(mayContain(src, at("src/.cache"))).toBe(false)
    expect(mayContain(src, at("src/node_modules"))).toBe(false)
    expect(mayContain(src, at("docs"))).toBe(false)
    const top = one("*.txt")
    expect(mayContain(top, root)).toBe(true)
    expect(mayContain(top, at("sub"))).toBe(false)
    const two = one("*/data/*.csv")
    expect(mayContain(two, at("x"))).toBe(true)
    expect(mayContain(two, at("x/data"))).toBe(true)
    expect(mayContain(two, at("x/other"))).toBe(false)
    expect(mayContain(two, at("x/data/more"))).toBe(false)
  })
})

describe("coversFolder", () => {
  it("recognizes output globs that take a whole folder", () => {
    expect(coversFolder(one("dist/**"), at("dist"))).toBe(true)
    expect(coversFolder(one("dist/**/*"), at("dist/sub"))).toBe(true)
    expect(coversFolder(one("dist/*.js"), at("dist"))).toBe(false)
    expect(coversFolder(one("dist/**"), at("src"))).toBe(false)
  })
})

describe("matchesAny", () => {
  it("answers as trying every pattern would, for any globs and paths (it only skips patterns whose base is not above the path)", () => {
    const segment = fc.constantFrom("src", "a", "b.ts", "c.txt", "node_modules", ".git", "x", "in", "1.txt")
    const glob = fc.oneof(
      fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/")),
      fc.tuple(fc.array(segment, { maxLength: 2 }), fc.constantFrom("*.ts", "**/*", "**/*.txt", "*", "{a,b.ts}", "a*")).map(([parts, tail]) => [...parts, tail].join("/")),
      fc.constantFrom("../x/*.ts", "*.txt")
    )
    fc.assert(fc.property(fc.array(glob, { maxLength: 8 }), fc.array(segment, { minLength: 1, maxLength: 4 }), (globs, parts) => {
      const patterns = globs.flatMap((g) => patternsOf(root, g))
      const file = path.join(root, ...parts)
      expect(matchesAny(patterns, file)).toBe(patterns.some((p) => matches(p, file)))
      expect(matchesAny(patterns, path.resolve("/x", parts.at(-1)!))).toBe(patterns.some((p) => matches(p, path.resolve("/x", parts.at(-1)!))))
    }), { numRuns: 500 })
  })
})
