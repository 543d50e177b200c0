import { describe, expect, it } from "vitest"
import { parse as parseYaml } from "yaml"
import * as Plan from "../runtime/Plan.ts"
import { isDefinitionError, type DefinitionError } from "./DefinitionError.ts"
import { shell } from "./Command.ts"
import { secret } from "./Permissions.ts"
import { fromSpec, type Spec } from "./Spec.ts"
import { workflow, type Workflow } from "./Workflow.ts"

const problemsOf = (spec: unknown): DefinitionError => {
  try {
    fromSpec(spec as Spec, { file: "ci.yaml" })
  } catch (error) {
    if (isDefinitionError(error)) return error
    throw error
  }
  throw new Error("expected a DefinitionError")
}

describe("fromSpec", () => {
  it("accepts steps in any order and lays them out so each follows what it waits for", () => {
    const wf = fromSpec({
      name: "ci",
      concurrency: 2,
      steps: [
        { id: "test", run: "npm test", needs: ["build"] },
        { id: "build", run: ["tsc", "-b"] },
        { id: "report", run: () => "ok", after: ["test"] }
      ]
    })
    expect(wf.steps.map((s) => s.id)).toEqual(["build", "test", "report"])
    expect(wf.options.concurrency).toBe(2)
    expect(wf.steps[0]!.run).toMatchObject({ argv: ["tsc", "-b"] })
    expect(wf.steps[1]!.run).toMatchObject({ argv: ["/bin/sh", "-c", "npm test"] })
  })

  it("rejects a cycle with its full path", () => {
    const error = problemsOf({
      name: "loop",
      steps: [{ id: "a", run: "true", needs: ["c"] }, { id: "b", run: "true", needs: ["a"] }, { id: "c", run: "true", needs: ["b"] }]
    })
    expect(error.message).toMatch(/cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/)
    expect(error.message).toContain("ci.yaml")
  })

  it("reports every problem at once: unknown keys, bad runners, unknown ids, duplicates", () => {
    const error = problemsOf({
      name: "ci",
      stepz: [],
      steps: [
        { id: "build", run: "make", neds: ["x"] },
        { id: "test", run: 42 },
        { id: "lint", run: "eslint", needs: ["biuld"] },
        { id: "lint", run: "eslint" }
      ]
    })
    const text = error.message
    expect(text).toContain(`unknown key "stepz". Did you mean "steps"?`)
    expect(text).toContain(`step "build": unknown key "neds". Did you mean "needs"?`)
    expect(text).toContain(`step "test": run must be`)
    expect(text).toContain(`step "lint": needs "biuld", which is not a step of this workflow. Did you mean "build"?`)
    expect(text).toContain(`the id "lint" is used twice`)
  })

  it("offers the first declared of equally close ids, and names a twin's first step", () => {
    const error = problemsOf({
      name: "ci",
      steps: [
        { id: "x", run: "true" },
        { id: "bold", run: "true" },
        { id: "build", run: "true" },
        { id: "lint", run: "true", after: ["buld"] },
        { id: "x", run: "true" },
        { id: "x", run: "true" }
      ]
    })
    expect(error.message).toContain(`step "lint": after "buld", which is not a step of this workflow. Did you mean "bold"?`)
    expect(error.message).toContain(`the id "x" is used twice (steps 1 and 5)`)
    expect(error.message).toContain(`the id "x" is used twice (steps 1 and 6)`)
  })

  it("rejects what is not a spec", () => {
    expect(problemsOf(null).message).toContain("must be an object")
    expect(problemsOf({ name: "x" }).message).toContain("steps must be a list")
  })

  it("takes resources, rateLimits and permissions from YAML, for the workflow and per step, a secret as { secret: NAME }", () => {
    const wf = fromSpec(parseYaml(`
name: train
resources: { gpu: 2, db: 1 }
rateLimits:
  openai: { limit: 3, per: 1 second }
permissions:
  env: [CI]
  read: ["data/**"]
steps:
  - id: fetch
    run: curl "$API_URL"
    rateLimit: openai
    permissions:
      env: [API_URL, { secret: API_TOKEN }]
      write: ["cache/**"]
  - id: train
    run: [python, train.py]
    needs: [fetch]
    resources: { gpu: 2 }
  - id: migrate
    run: ./migrate.sh
    resources: { db: 1 }
`) as Spec, { file: "train.yaml" })
    expect(wf.options).toEqual({
      resources: { gpu: 2, db: 1 },
      rateLimits: { openai: { limit: 3, per: "1 second" } },
      permissions: { env: ["CI"], read: ["data/**"] }
    })
    const [fetch, train, migrate] = ["fetch", "train", "migrate"].map((id) => wf.steps.find((s) => s.id === id))
    expect(fetch).toMatchObject({ id: "fetch", rateLimit: "openai", permissions: { env: ["API_URL", secret("API_TOKEN")], write: ["cache/**"] } })
    expect(train).toMatchObject({ id: "train", resources: { gpu: 2 } })
    expect(migrate).toMatchObject({ id: "migrate", resources: { db: 1 } })
    // The plan takes them as it takes the builder's: the steps' demands are laid out.
    expect(Plan.make(wf).resources).toBeDefined()
  })

  it("takes every workflow option of the builder at its top, alerts and commandConcurrency included, checked the same way", () => {
    const wf = fromSpec({ name: "ci", commandConcurrency: 2, alerts: { stepOverrun: 3, memoHitRate: false }, steps: [{ id: "a", run: "true" }] })
    expect(wf.options).toEqual({ commandConcurrency: 2, alerts: { stepOverrun: 3, memoHitRate: false } })
    expect(problemsOf({ name: "ci", alerts: { stepOverrun: 1 }, steps: [] }).message).toContain("alerts.stepOverrun must be a number above 1")
  })

  it.each([
    ["resources", { resources: { db: 0 } }, {}, `resource "db" needs a whole-number capacity of at least 1, not 0`],
    ["resources", { resources: { gpu: 1 } }, { resources: { gpuu: 1 } },
      `step "s": resources: "gpuu" is not a resource of this workflow. Did you mean "gpu"? Declare it: resources: { gpuu: 1 } at the top of the spec`],
    ["resources", { resources: { gpu: 1 } }, { resources: { gpu: 2 } }, `step "s": resources: asks for 2 "gpu", but the workflow has only 1: lower the demand or raise resources.gpu`],
    ["rateLimits", { rateLimits: { openai: { limit: 0, per: "1 second" } } }, {}, `rate limit "openai": limit must be a whole number of at least 1`],
    ["rateLimit", { rateLimits: { openai: { limit: 3, per: "1 second" } } }, { rateLimit: "opneai" },
      `step "s": rateLimit "opneai", which is not one of the workflow's rateLimits ("openai"). Did you mean "openai"?`],
    ["rateLimit", {}, { rateLimit: "openai" },
      `step "s": rateLimit "openai", but the workflow has no rateLimits: declare it, like rateLimits: { "openai": { limit: 3, per: "1 second" } } at the top of the spec`],
    ["permissions", { permissions: { write: "dist" } }, {}, `permissions.write must be a list of globs relative to the workflow's folder, like write: ["dist/**"], not "dist"`],
    ["permissions", {}, { permissions: { wirte: ["dist/**"] } }, `step "s": unknown permissions option "wirte": the options are env, read, write, sandbox, net, isolate, run. Did you mean "write"?`],
    ["permissions", {}, { permissions: { env: [{ secret: "1TOKEN" }] } },
      `step "s": permissions.env lists { secret: "1TOKEN" }: each entry must be a variable name ("API_URL") or { secret: "API_TOKEN" }`]
  ])("rejects a bad %s, naming the file, the step and the fix in a spec's terms", (_option, workflowPart, stepPart, expected) => {
    const error = problemsOf({ name: "ci", ...workflowPart, steps: [{ id: "s", run: "true", ...stepPart }] })
    expect(error.message).toContain(`ci.yaml, workflow "ci" has a problem:`)
    expect(error.message).toContain(expected)
  })

  it("reports the options' problems with the spec's own in one error: every problem at once", () => {
    const error = problemsOf({
      name: "ci",
      rateLimts: {},
      resources: { db: 1 },
      steps: [
        { id: "a", run: 42, resources: { disk: 1 } },
        { id: "b", run: "true", needs: ["c"], rateLimit: "api", permissions: { env: ["1BAD"] }, retry: -1 },
        { id: "b", run: "true" }
      ]
    })
    const found = error.problems.map((p) => [p.step, p.message])
    const expected = [
      [undefined, `unknown key "rateLimts"`],
      ["a", "run must be a shell command (a string), an argv list, a function or a workflow"],
      ["b", `needs "c", which is not a step of this workflow`],
      ["a", `resources`],
      ["b", `rateLimit "api", but the workflow has no rateLimits`],
      ["b", "retry times must be a whole number of at least 0, not -1"],
      ["b", `permissions.env lists "1BAD"`],
      ["b", `the id "b" is used twice (steps 2 and 3)`]
    ]
    expect(found).toHaveLength(expected.length)
    expect(found).toEqual(expect.arrayContaining(expected.map(([step, message]) => [step, expect.stringContaining(message!)])))
    expect(error.message).toContain(`Did you mean "rateLimits"?`)
  })
})

describe("fromSpec: every field is type-checked", () => {
  const stepWith = (part: Record<string, unknown>) => ({ name: "ci", steps: [{ id: "a", run: "true" }, { id: "s", run: "true", ...part }] })
  it.each([
    ["after", { after: {} }, `step "s": after must be a list of step ids, like after: ["build"], not {}`],
    ["after", { after: 5 }, `step "s": after must be a list of step ids, like after: ["build"], not 5`],
    ["needs", { needs: "a" }, `step "s": needs must be a list of step ids, like needs: ["build"], not "a"`],
    ["needs", { needs: [5] }, `step "s": needs lists 5, which is not a step id: write ids as strings, like needs: ["build"]`],
    ["after", { after: [null] }, `step "s": after lists null, which is not a step id`],
    ["cwd", { cwd: 5 }, `step "s": cwd must be a folder (a string, relative to the workflow's folder), not 5`],
    ["cwd", { cwd: "" }, `step "s": cwd must be a folder (a string, relative to the workflow's folder), not ""`],
    ["env", { env: 5 }, `step "s": env must be a map of variable names to strings, like env: { NODE_ENV: "test" }, not 5`],
    ["env", { env: ["A=1"] }, `step "s": env must be a map of variable names to strings`],
    ["env", { env: { PORT: 8080 } }, `step "s": env.PORT must be a string, like PORT: "8080", not 8080`],
    ["cwd", { run: () => 1, cwd: "src" }, `step "s": cwd applies only to a command (run as a string or an argv list)`],
    ["optional", { optional: "yes" }, `step "s": optional must be true or false, not "yes"`],
    ["id", { id: 5 }, `step "#2": a step needs an id (a non-empty string), not 5`]
  ])("rejects a bad %s with the file, the step and the field", (_field, part, expected) => {
    const error = problemsOf(stepWith(part))
    expect(error.message).toContain("ci.yaml")
    expect(error.message).toContain(expected)
  })

  it.each([
    [{ failFast: "no" }, `failFast must be true or false, not "no"`],
    [{ name: 5 }, `the spec needs a name, like name: "build"`],
    [{ concurrency: "2" }, `concurrency must be a whole number of at least 1, not "2"`]
  ])("rejects a bad workflow field: %j", (part, expected) => {
    const error = problemsOf({ name: "ci", steps: [{ id: "a", run: "true" }], ...part })
    expect(error.message).toContain(expected)
  })

  it("reports a wrong needs type beside the other problems, all at once", () => {
    const error = problemsOf({ name: "ci", steps: [{ id: "a", run: "true", after: {} }, { id: "b", run: 5, needs: [5, "zz"] }] })
    const messages = error.problems.map((p) => `${p.step}: ${p.message}`)
    expect(messages).toEqual(expect.arrayContaining([
      expect.stringContaining("a: after must be a list"),
      expect.stringContaining("b: needs lists 5"),
      expect.stringContaining(`b: needs "zz", which is not a step`),
      expect.stringContaining("b: run must be")
    ]))
  })
})

describe("fromSpec: cycles", () => {
  it("reports every cycle once, beside the other problems: {a,b}, {c,d,e} and g on itself", () => {
    const error = problemsOf({
      name: "loops",
      steps: [
        { id: "a", run: "true", needs: ["b"] },
        { id: "b", run: "true", after: ["a"] },
        { id: "c", run: "true", needs: ["e"] },
        { id: "d", run: "true", needs: ["c"] },
        { id: "e", run: "true", needs: ["d", "a"] },
        { id: "f", run: "true", needs: ["e", "a"] },
        { id: "g", run: "true", needs: ["g", "f"] },
        { id: "h", run: "true", neds: [] }
      ]
    })
    const cycles = error.problems.filter((p) => p.message.includes("cycle"))
    expect(cycles.map((p) => p.message.match(/cycle: ([^.]*)\./)![1])).toEqual(["a → b → a", "c → d → e → c", "g → g"])
    expect(cycles.map((p) => p.step)).toEqual(["a", "c", "g"])
    // All at once: the unknown key is reported in the same error.
    expect(error.message).toContain(`step "h": unknown key "neds"`)
  })

  it("shortens a loop through thousands of steps to its ends, saying how many are left out", () => {
    const n = 5_000
    const steps = Array.from({ length: n }, (_, i) => ({ id: `s${i}`, run: "true", needs: [`s${(i + n - 1) % n}`] }))
    const [cycle, ...rest] = problemsOf({ name: "ring", steps }).problems
    expect(rest).toEqual([])
    expect(cycle!.message).toBe(`steps wait for each other in a cycle: s0 → s1 → s2 → s3 → s4 → s5 → s6 → s7 → … 4,990 more … → s4998 → s4999 → s0. Remove one of these needs/after.`)
  })

  it("names every step of a tangle that one cycle does not cover", () => {
    const error = problemsOf({
      name: "tangle",
      steps: [{ id: "a", run: "true", needs: ["b"] }, { id: "b", run: "true", needs: ["a", "c"] }, { id: "c", run: "true", needs: ["b"] }]
    })
    const cycles = error.problems.filter((p) => p.message.includes("cycle"))
    expect(cycles).toHaveLength(1)
    expect(cycles[0]!.message).toContain("a → b → a")
    expect(cycles[0]!.message).toContain(`"c"`)
  })
})

describe("fromSpec: size", () => {
  /** The fastest of `runs` calls of `f`: the one the least load from elsewhere got into. */
  const fastest = (f: () => unknown, runs = 3): number => {
    let best = Infinity
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now()
      f()
      best = Math.min(best, performance.now() - t0)
    }
    return best
  }

  it("costs about what the builder and the plan's check cost on the same graph: linear, not quadratic", () => {
    const n = 40_000
    const needs: ReadonlyArray<ReadonlyArray<string>> = Array.from({ length: n }, (_, i) => Array.from({ length: Math.min(i, 5) }, (_, j) => `s${i - 1 - j}`))
    const steps = needs.map((ns, i) => ({ id: `s${i}`, run: "true", needs: ns }))
    const build = () => {
      let wf: Workflow<{}> = workflow("size")
      for (let i = 0; i < n; i++) wf = wf.step(`s${i}`, { needs: needs[i] as ReadonlyArray<never> }, shell("true"))
      return Plan.check(wf)
    }
    const spec = () => fromSpec({ name: "size", steps })
    fastest(build, 2) // warm up the JIT
    fastest(spec, 2)
    const [builder, fromData] = [fastest(build), fastest(spec)]
    // Alike, about 1.5×; the quadratic id lookup this replaced took 440× (14 s)
    // at this size. A wide margin for a loaded machine.
    expect(fromData / builder, `fromSpec ${fromData.toFixed(1)} ms, builder and check ${builder.toFixed(1)} ms`).toBeLessThan(5)
  })
})
