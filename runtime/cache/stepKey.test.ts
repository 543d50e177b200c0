/**
 * A function step's key names its code by the step's own source digest or by
 * the module digest, never so that one could be taken for the other.
 */
import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"
import { cmd } from "../../dsl/Command.ts"
import { makeStepDef } from "../../dsl/Step.ts"
import { canonicalHash } from "./canonical.ts"
import { CACHE_FORMAT_VERSION, definitionOf, stepKey, type KeyParts } from "./stepKey.ts"

const parts = (over: Partial<KeyParts>): KeyParts => ({
  workflow: "w",
  step: makeStepDef("a", {}, () => 1),
  modules: undefined,
  inputs: {},
  userKey: undefined,
  files: "",
  env: [],
  outputs: [],
  ...over
})

describe("stepKey of a function step", () => {
  it("the same digest as a step digest and as a module digest gives different keys", () => {
    const step = makeStepDef("a", {}, () => 1)
    expect(stepKey(parts({ step, source: "d" }))).not.toBe(stepKey(parts({ step, modules: "d" })))
    expect(stepKey(parts({ step, source: "d", modules: "m" }))).not.toBe(stepKey(parts({ step, modules: "d" })))
  })

  it("a step digest stands in for the module digest: a change to the module alone leaves the key", () => {
    const step = makeStepDef("a", {}, () => 1)
    expect(stepKey(parts({ step, source: "d", modules: "m1" }))).toBe(stepKey(parts({ step, source: "d", modules: "m2" })))
    expect(stepKey(parts({ step, source: "d1", modules: "m" }))).not.toBe(stepKey(parts({ step, source: "d2", modules: "m" })))
    expect(stepKey(parts({ step, modules: "m1" }))).not.toBe(stepKey(parts({ step, modules: "m2" })))
  })
})

describe("stepKey's composition", () => {
  /** The key as it has always been made, spelled out: a change here makes every stored entry a miss. */
  const reference = (p: KeyParts): string => {
    const env = [...new Set(p.env)].sort().map((name) => [name, (p.environment ?? process.env)[name] ?? null])
    return createHash("sha256").update(canonicalHash([
      "weft-step", CACHE_FORMAT_VERSION, process.platform, process.arch, process.versions.node.split(".")[0],
      p.workflow, p.step.id, definitionOf(p.step.run, p.modules, p.source), p.userKey ?? null,
      canonicalHash(p.inputs), p.files, canonicalHash(env), [...p.outputs].sort()
    ])).digest("hex")
  }

  it("is unchanged for steps with and without inputs and variables (old entries stay hits)", () => {
    const command = makeStepDef("c", { after: [] }, cmd(["touch", "out/c.stamp"]))
    const cases: ReadonlyArray<KeyParts> = [
      parts({}),
      parts({ step: command, outputs: ["out/c.stamp"] }),
      parts({ inputs: { a: 1, b: [true, "x"] }, env: ["HOME", "A", "HOME"], environment: { HOME: "/h" }, userKey: "v2", files: "f" }),
      parts({ inputs: [] as unknown as Record<string, unknown> }),
      parts({ inputs: Object.create(null) }),
      parts({ source: "s", modules: "m" })
    ]
    for (const p of cases) expect(stepKey(p)).toBe(reference(p))
  })
})
