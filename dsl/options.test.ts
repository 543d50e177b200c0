/**
 * The option table is the one list of options: typed so that a key of
 * `StepOptions` or `WorkflowOptions` without a row does not compile (these
 * type assertions are checked by `tsc --noEmit -p .`, which covers tests),
 * and read by the builder and specs for their unknown keys.
 */
import { describe, expect, expectTypeOf, it } from "vitest"
import { stepOptionKeys, stepOptions, workflowOptionKeys, workflowOptions, type OptionTable } from "./options.ts"
import { fromSpec } from "./Spec.ts"
import { makeStepDef, type StepDef, type StepOptions } from "./Step.ts"
import type { WorkflowOptions } from "./Workflow.ts"

describe("the option table", () => {
  it("has a row for every key of StepOptions and WorkflowOptions, and no other", () => {
    expectTypeOf<keyof typeof stepOptions>().toEqualTypeOf<keyof StepOptions>()
    expectTypeOf<keyof typeof workflowOptions>().toEqualTypeOf<keyof WorkflowOptions>()
    // A new option without its row does not compile.
    // @ts-expect-error: "colour" has no row
    const missing: OptionTable<StepOptions & { readonly colour?: string }> = stepOptions
    // @ts-expect-error: "colour" has no row
    const missingOfWorkflow: OptionTable<WorkflowOptions & { readonly colour?: string }> = workflowOptions
    // Every option reaches the engine's definition of a step.
    expectTypeOf<keyof StepOptions>().toExtend<keyof StepDef>()
    expect([missing, missingOfWorkflow]).toEqual([stepOptions, workflowOptions])
    expect(stepOptionKeys).toEqual(Object.keys(stepOptions))
    expect(workflowOptionKeys).toEqual(Object.keys(workflowOptions))
  })

  it("says what each option does in one line", () => {
    for (const row of [...Object.values(stepOptions), ...Object.values(workflowOptions)]) expect(row.doc).toMatch(/^[^\n]{10,100}$/)
  })

  it("is what the builder and a spec know: no option of the table is an unknown key", () => {
    for (const key of stepOptionKeys) expect(makeStepDef("s", { [key]: undefined } as StepOptions, () => 1).unknownOptions).toEqual([])
    expect(makeStepDef("s", { colour: 1 } as StepOptions, () => 1).unknownOptions).toEqual(["colour"])
    const spec = {
      name: "all",
      ...Object.fromEntries(workflowOptionKeys.map((key) => [key, undefined])),
      steps: [{ id: "s", run: "true", ...Object.fromEntries(stepOptionKeys.map((key) => [key, undefined])) }]
    }
    expect(fromSpec(spec).steps.map((s) => s.id)).toEqual(["s"])
  })
})
