import { describe, expect, it } from "vitest"
import { cmd, sh, workflow } from "../../dsl/index.ts"
import { diffWorkflows, fingerprint, type StepDigest } from "./diff.ts"

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

  it("without source digests, a function step is always changed: a helper it calls may have changed with the same source text", () => {
    const f = () => 1
    const before = workflow("w").step("f", f).step("g", sh`echo g`)
    const after = workflow("w").step("f", f).step("g", sh`echo g`)
    expect(diffWorkflows(before, after)).toEqual({ added: [], removed: [], changed: ["f"] })
    expect(fingerprint(before.steps[0]!, before)).toBeUndefined()
  })

  /** Digests by step id, as `makeStepDigest` would give them; a missing id is unprovable. */
  const digests = (byId: Readonly<Record<string, string>>): StepDigest => (def) => byId[def.id]

  it("with source digests, a function step is unchanged exactly when both digests exist and are equal", () => {
    const wf = () => workflow("w").step("f", () => 1).step("g", () => 2).step("h", () => 3).step("k", () => 4)
    const sources = { before: digests({ f: "1", g: "2", h: "3" }), after: digests({ f: "1", g: "2*", k: "4" }) }
    expect(diffWorkflows(wf(), wf(), sources)).toEqual({ added: [], removed: [], changed: ["g", "h", "k"] })
  })

  it("with equal digests, a function step still changes with its options, or when it stops being a function", () => {
    const same = { before: digests({ f: "1" }), after: digests({ f: "1" }) }
    const before = workflow("w").step("x", sh`x`).step("f", () => 1)
    expect(diffWorkflows(before, workflow("w").step("x", sh`x`).step("f", () => 1), same).changed).toEqual([])
    expect(diffWorkflows(before, workflow("w").step("x", sh`x`).step("f", { timeout: "1 minute" }, () => 1), same).changed).toEqual(["f"])
    expect(diffWorkflows(before, workflow("w").step("x", sh`x`).step("f", { needs: ["x"] }, () => 1), same).changed).toEqual(["f"])
    expect(diffWorkflows(before, workflow("w").step("x", sh`x`).step("f", sh`echo 1`), same).changed).toEqual(["f"])
    // Code elsewhere in the definition is still unprovable.
    const retry = (delay: () => number) => workflow("w").step("x", sh`x`).step("f", { retry: { times: 1, delay } as never }, () => 1)
    expect(diffWorkflows(retry(() => 1), retry(() => 1), same).changed).toEqual(["f"])
  })

  it("a sub-workflow's function steps are never proven by the outer step's digest", () => {
    const inner = workflow("inner").step("x", () => 1)
    const outer = workflow("w").step("sub", inner)
    const all = (): StepDigest => () => "same"
    expect(diffWorkflows(outer, outer, { before: all(), after: all() }).changed).toEqual(["sub"])
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
