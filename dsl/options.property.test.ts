/**
 * One definition check: the same option values, written in a spec or given
 * to the builder, get the same problems. Values are drawn for every row of
 * the option table, good ones and wrong ones (types, ranges, unknown nested
 * keys, names the workflow does not declare); the two sides differ only in
 * spelling (`unknown key` vs `unknown option`, `{ secret: "X" }` vs
 * `secret("X")`, "at the top of the spec" vs `workflow(…)`).
 */
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as Plan from "../runtime/Plan.ts"
import { sh } from "./Command.ts"
import { isDefinitionError, type Problem } from "./DefinitionError.ts"
import { inSpecTerms } from "./internal/specTerms.ts"
import { stepOptionKeys, workflowOptionKeys } from "./options.ts"
import { isSecret, secret } from "./Permissions.ts"
import { fromSpec, type Spec } from "./Spec.ts"
import type { StepOptions } from "./Step.ts"
import { workflow, type Workflow, type WorkflowOptions } from "./Workflow.ts"

/** Good values first (drawn more often), then wrong ones. */
const values = (good: ReadonlyArray<unknown>, bad: ReadonlyArray<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 2 }, { arbitrary: fc.constantFrom(...bad), weight: 1 })

const cache = values([true, false, { inputs: ["src/**"], ttl: "1 hour" }], [5, { inptus: [] }, { outputs: [".weft/x"] }, { ttl: "soon" }, { key: 5 }])
const permissions = values(
  [{ env: ["CI"] }, { env: [secret("TOKEN")], write: ["dist/**"] }, { isolate: true, run: ["git"] }],
  [{ env: [secret("1BAD")] }, { env: "CI" }, { net: true }, { wirte: [] }, { sandbox: "yes" }, { read: [""] }, 5]
)

/** A value (or nothing) for every workflow option, keyed as the table is. */
const workflowValues: { readonly [K in keyof WorkflowOptions]-?: fc.Arbitrary<unknown> } = {
  concurrency: values([1, 4], [0, "2", 1.5]),
  commandConcurrency: values([2], [0, -1]),
  failFast: values([true, false], ["no"]),
  cache,
  rateLimits: values([{ api: { limit: 2, per: "1 second" } }], [{ api: { limit: 0, per: "1 second" } }, { api: { limit: 1, per: "soon" } }, [], 5]),
  resources: values([{ db: 1 }, { db: 2, gpu: 1 }], [{ db: 0 }, { slots: 2 }, { commands: 1 }, "db"]),
  permissions,
  alerts: values([{ stepOverrun: 3 }, { memoHitRate: 0.5, runOverrun: false }], [{ stepOverrun: 1 }, { memoHitRate: 2 }, { nope: 1 }, 5]),
  // Names steps `s*` or `s0`: found or not, depending on the steps drawn.
  invariants: values(
    [{ fine: () => true }, { named: Object.assign(() => true, { steps: ["s*"] }) }],
    [5, [], { x: 5 }, { typo: Object.assign(() => true, { steps: ["s0", "nope"] }) }, { shape: Object.assign(() => true, { steps: "s0" }) }]
  )
}

/** A value (or nothing) for every step option but `needs` and `after`, which name other steps. */
const stepValues: { readonly [K in Exclude<keyof StepOptions, "needs" | "after">]-?: fc.Arbitrary<unknown> } = {
  optional: values([true, false], ["yes"]),
  retry: values([2, { times: 1, delay: "1 millis" }], [-1, "x", { times: 1, delay: "soon" }, { times: 1, factor: 0.5 }]),
  timeout: values(["30 seconds", 100], [0, -5, "soon"]),
  estimate: values(["1 second", 0], [-1, "soon"]),
  cache,
  rateLimit: values(["api"], ["apj", 5]),
  resources: values([{ db: 1 }], [{ db: 5 }, { gpu: 3 }, { slots: 1 }, 5]),
  permissions,
  runsOn: values(["local"], ["remote", true])
}

/** Some of the fields, each with a value drawn for it, plus now and then an unknown key. */
const someOf = (fields: Record<string, fc.Arbitrary<unknown>>, unknown: string): fc.Arbitrary<Record<string, unknown>> => {
  const all: Array<[string, fc.Arbitrary<unknown>]> = [...Object.entries(fields), [unknown, fc.constant(1)]]
  return fc.record(Object.fromEntries(all.map(([k, v]) => [k, fc.option(v, { freq: 2, nil: undefined })])))
    .map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)))
}

/** `needs` and `after` of step `i`: earlier steps (so the builder takes them too), or a wrong shape. */
const refs = (i: number): fc.Arbitrary<unknown> =>
  fc.option(
    fc.oneof(
      { arbitrary: fc.subarray(Array.from({ length: i }, (_, j) => `s${j}`)), weight: 3 },
      { arbitrary: fc.constantFrom({}, [5], "s0", [null]), weight: 1 }
    ),
    { freq: 2, nil: undefined }
  )

const step = (i: number) =>
  fc.tuple(someOf(stepValues, "nedds"), refs(i), refs(i)).map(([options, needs, after]) => ({
    ...options,
    ...(needs === undefined ? {} : { needs }),
    ...(after === undefined ? {} : { after })
  }))

const definitions = fc.tuple(someOf(workflowValues, "colour"), fc.integer({ min: 0, max: 4 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => step(i)))))

/** A value as a spec writes it: `{ secret: "NAME" }` for `secret("NAME")`. */
const asData = (value: unknown): unknown =>
  isSecret(value) ? { secret: value.name }
  : Array.isArray(value) ? value.map(asData)
  : typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asData(v)]))
  : value

const sorted = (problems: ReadonlyArray<Problem>): Array<string> => problems.map((p) => `${p.step ?? "(workflow)"}: ${p.message}`).sort()

const problemsOf = (f: () => unknown): ReadonlyArray<Problem> => {
  try {
    f()
    return []
  } catch (error) {
    if (isDefinitionError(error)) return error.problems
    throw error
  }
}

/** What the builder and `Plan.check` say, in a spec's words. */
const throughBuilder = (options: Record<string, unknown>, steps: ReadonlyArray<Record<string, unknown>>): Array<string> => {
  let wf: Workflow<any> = workflow("w", options as WorkflowOptions)
  steps.forEach((stepOptions, i) => {
    wf = wf.step(`s${i}` as never, stepOptions as never, sh`true`)
  })
  return sorted(Plan.check(wf).map((p) => ({ ...p, message: inSpecTerms(p.message) })))
}

/** What `fromSpec` says, its unknown keys spelled as the builder's. */
const throughSpec = (options: Record<string, unknown>, steps: ReadonlyArray<Record<string, unknown>>): Array<string> => {
  const spec = { name: "w", ...asData(options) as object, steps: steps.map((s, i) => ({ id: `s${i}`, run: "true", ...asData(s) as object })) }
  return sorted(problemsOf(() => fromSpec(spec as Spec)).map((p) => ({
    ...p,
    message: p.message.replace(/^unknown key/, p.step === undefined ? "unknown workflow option" : "unknown option")
  })))
}

describe("one definition check", () => {
  it("draws a value for every option of the table", () => {
    expect(Object.keys(workflowValues).sort()).toEqual([...workflowOptionKeys].sort())
    expect([...Object.keys(stepValues), "needs", "after"].sort()).toEqual([...stepOptionKeys].sort())
  })

  it("gives the same problems for the same option values through fromSpec and through the builder and Plan.check", () => {
    let withProblems = 0
    fc.assert(
      fc.property(definitions, ([options, steps]) => {
        const built = throughBuilder(options, steps)
        expect(throughSpec(options, steps)).toEqual(built)
        if (built.length > 0) withProblems++
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 400) }
    )
    // Both sides of the property are reached: definitions that pass and ones that do not.
    expect(withProblems).toBeGreaterThan(0)
    expect(withProblems).toBeLessThan(Number(process.env.FUZZ_RUNS ?? 400))
  })
})
