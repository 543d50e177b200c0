import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { sh, workflow } from "../../dsl/index.ts"
import * as Plan from "../Plan.ts"
import { affected, inputPatterns, outputPatterns, touched, withDownstream } from "./affected.ts"

const root = path.resolve("/w")
const at = (rel: string) => path.join(root, rel)

//   gen ──▶ build ──▶ test
//   docs      lint ──┘
const wf = workflow("app", { cache: { inputs: ["package.json"] } })
  .step("gen", { cache: { inputs: ["schema/*.json"], outputs: ["src/gen/**"] } }, sh`gen`)
  .step("docs", { cache: { inputs: ["docs/**/*.md"] } }, sh`docs`)
  .step("build", { needs: ["gen"], cache: { inputs: ["src/**/*.ts"] } }, sh`tsc`)
  .step("lint", { cache: false }, sh`lint`)
  .step("test", { needs: ["build"], after: ["lint"] }, sh`test`)

describe("affected", () => {
  const plan = Plan.make(wf)
  it("a change reruns the steps whose inputs match it and everything downstream, in plan order", () => {
    expect(affected(plan, root, [at("schema/user.json")])).toEqual(["gen", "build", "test"])
    expect(affected(plan, root, [at("src/main.ts")])).toEqual(["build", "test"])
    expect(affected(plan, root, [at("docs/guide/intro.md")])).toEqual(["docs"])
    expect(affected(plan, root, [at("docs/guide/intro.md"), at("src/x.ts")])).toEqual(["docs", "build", "test"])
  })

  it("a file no step reads affects nothing; a step with cache: false declares no inputs", () => {
    expect(affected(plan, root, [at("README.md"), at("schema/nested/x.json")])).toEqual([])
    expect(inputPatterns(plan, root).has("lint")).toBe(false)
  })

  it("the workflow's cache option gives its inputs to steps that set none", () => {
    expect(affected(plan, root, [at("package.json")])).toEqual(["test"])
  })

  it("lists which files touched which step", () => {
    expect(touched(inputPatterns(plan, root), [at("schema/a.json"), at("src/b.ts"), at("schema/c.json")])).toEqual(
      new Map([["gen", [at("schema/a.json"), at("schema/c.json")]], ["build", [at("src/b.ts")]]])
    )
  })

  it("follows `after` as well as `needs` downstream, and ignores unknown ids", () => {
    expect(withDownstream(plan, ["lint", "nope"])).toEqual(["lint", "test"])
  })

  it("only the selected steps count when some are named", () => {
    const only = Plan.make(wf, { only: ["build"] })
    expect(affected(only, root, [at("src/main.ts"), at("docs/a.md")])).toEqual(["build"])
  })

  it("collects every step's outputs, which watch mode does not watch", () => {
    expect(outputPatterns(wf, root)).toMatchObject([{ base: at("src/gen"), glob: "**" }])
  })

  it("a sub-workflow step is affected by its inner steps' inputs", () => {
    const inner = workflow("inner").step("x", { cache: { inputs: ["inner/*.txt"] } }, sh`x`)
    const outer = Plan.make(workflow("outer").step("sub", inner).step("after", { needs: ["sub"] }, sh`y`))
    expect(affected(outer, root, [at("inner/a.txt")])).toEqual(["sub", "after"])
  })
})
