import { describe, expect, it } from "vitest"
import { makeLoadEffects } from "./loadEffects.ts"
import { parseModule } from "./syntax.ts"
import { topLevelOf } from "./topLevel.ts"

/** Whether the last top-level statement of `code` may write while the module loads. */
const lastWrites = (code: string): boolean => {
  const parsed = parseModule("m.ts", `import { workflow, sh } from "weft"\nimport * as path from "node:path"\n${code}`)!
  const effects = makeLoadEffects(topLevelOf(parsed), (source) => source === "weft")
  return effects.statementWrites(parsed.program.body.at(-1)!)
}

describe("what may write while a module loads", () => {
  it("nothing: values, closures, builtins that compute, weft's builder, and module functions that touch only their locals", () => {
    for (const code of [
      `const a = 1`,
      `const f = (x: number) => { registry.push(x) }`,
      `const keys = Object.keys({ a: 1 }).map((k) => k + "!").join(",")`,
      `const where = path.join("a", "b")`,
      `const m = new Map()`,
      `const w = workflow("w").step("a", () => 1).each("b", ["x"], (x) => () => x).step("c", sh\`echo c\`)`,
      `const make = (n: number) => { let total = 0; for (const i of [1, 2]) total += i * n; return () => total }\nconst r = make(2)`,
      `function twice(n: number) { return n * 2 }`,
      `class A { static x = 1; method() { globalThis.y = 2 } }`
    ]) expect(lastWrites(code), code).toBe(false)
  })

  it("something: a statement, an assignment, a call of what is not known, or of a module function that writes outside itself", () => {
    for (const code of [
      `setup()`,
      `config.mode = "x"`,
      `const r = register("a")`,
      `const registry: Array<string> = []\nconst add = (x: string) => { registry.push(x); return x }\nconst a = add("a")`,
      `let n = 0\nconst bump = () => n++\nconst b = bump()`,
      `const o = { n: 1 }\nconst set = (x: { n: number }) => { x.n = 2 }\nconst s = set(o)`,
      `const c = [1].map((x) => { globalThis.seen = x; return x })`,
      `const w = workflow("w").each("b", ["x"], (x) => { sideEffect(x); return () => x })`,
      `const w = workflow("w").each("b", ["x"], { key: (x: string) => { log(x); return x } }, (x) => () => x)`,
      `const loading = import("./x.ts")`,
      `const value = await Promise.resolve(1)`,
      `class B { static { globalThis.z = 1 } }`,
      `const p = Object.assign({}, { a: 1 })`
    ]) expect(lastWrites(code), code).toBe(true)
  })

  it("inside a function, a name some function binds locally may not be the module's: calling through it may write", () => {
    // `f` at the top level computes, but inside `apply` it is a parameter, which may be anything.
    const shadowed = `const items = [1]\nconst f = (x: number) => x\nconst apply = (items: Array<number>, f: (x: number) => number) => items.map(f)\nconst r = apply(items, (x) => { globalThis.x = x; return x })`
    expect(lastWrites(shadowed)).toBe(true)
    expect(lastWrites(`const items = [1]\nconst f = (x: number) => x\nconst apply = () => items.map(f)\nconst r = apply()`)).toBe(false)
  })
})
