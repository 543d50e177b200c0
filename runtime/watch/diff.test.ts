import { describe, expect, it } from "vitest"
import { cmd, sh, workflow } from "../../dsl/index.ts"
import { diffWorkflows, fingerprint } from "./diff.ts"

const base = workflow("w")
  .step("a", sh`echo a`)
  .step("b", { needs: ["a"], retry: { times: 2, delay: "1 second" } }, cmd(["node", "b.js"], { cwd: "tools" }))
  .step("c", { cache: { inputs: ["src/**"] } }, sh`echo c`)

describe("diffWorkflows", () => {
  it("the same definition built twice: nothing changed", () => {
    const again = workflow("w")
      .step("a", sh`echo a`)
      .step("b", { needs: ["a"], retry: { times: 2, delay: 1000 } }, cmd(["node", "b.js"], { cwd: "tools" }))
      .step("c", { cache: { inputs: ["src/**"] } }, sh`echo c`)
    expect(diffWorkflows(base, again)).toEqual({ added: [], removed: [], changed: [] })
  })

  it("finds added and removed steps", () => {
    const after = workflow("w").step("a", sh`echo a`).step("c", { cache: { inputs: ["src/**"] } }, sh`echo c`).step("d", sh`echo d`)
    expect(diffWorkflows(base, after)).toEqual({ added: ["d"], removed: ["b"], changed: [] })
  })

  it("a different command, cwd, env, needs, option or cache option is a change", () => {
    const variants = [
      workflow("w").step("a", sh`echo A`),
      workflow("w").step("a", { timeout: "1 minute" }, sh`echo a`),
      workflow("w").step("a", { optional: true }, sh`echo a`),
      workflow("w").step("a", { cache: { inputs: ["x"] } }, sh`echo a`),
      workflow("w", { cache: true }).step("a", sh`echo a`),
      workflow("w").step("a", cmd(["/bin/sh", "-c", "echo a"], { env: { X: "1" } }))
    ]
    const a = workflow("w").step("a", sh`echo a`)
    for (const variant of variants) expect(diffWorkflows(a, variant).changed).toEqual(["a"])
    const needs = workflow("w").step("x", sh`x`).step("a", { after: ["x"] }, sh`echo a`)
    expect(diffWorkflows(workflow("w").step("x", sh`x`).step("a", sh`echo a`), needs).changed).toEqual(["a"])
  })

  it("a function step is always changed: a helper it calls may have changed with the same source text", () => {
    const f = () => 1
    const before = workflow("w").step("f", f).step("g", sh`echo g`)
    const after = workflow("w").step("f", f).step("g", sh`echo g`)
    expect(diffWorkflows(before, after)).toEqual({ added: [], removed: [], changed: ["f"] })
    expect(fingerprint(before.steps[0]!, before)).toBeUndefined()
  })

  it("a sub-workflow is unchanged when every step inside is, changed when one is or when it holds code", () => {
    const inner = (text: string) => workflow("inner").step("x", sh`echo ${text}`)
    const outer = (sub: ReturnType<typeof workflow>) => workflow("w").step("sub", sub)
    expect(diffWorkflows(outer(inner("1")), outer(inner("1"))).changed).toEqual([])
    expect(diffWorkflows(outer(inner("1")), outer(inner("2"))).changed).toEqual(["sub"])
    const withCode = workflow("inner").step("x", () => 1)
    expect(diffWorkflows(outer(withCode), outer(withCode)).changed).toEqual(["sub"])
  })
})
