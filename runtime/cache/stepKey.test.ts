/**
 * A function step's key names its code by the step's own source digest or by
 * the module digest, never so that one could be taken for the other.
 */
import { describe, expect, it } from "vitest"
import { makeStepDef } from "../../dsl/Step.ts"
import { stepKey, type KeyParts } from "./stepKey.ts"

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
