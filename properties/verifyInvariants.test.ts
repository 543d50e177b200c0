import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { useFolders } from "../test/fixtures/folders.ts"
import { isDefinitionError } from "../dsl/DefinitionError.ts"
import { workflow } from "../dsl/Workflow.ts"
import { invariants, verify, type InvariantFinding } from "./index.ts"

const folder = useFolders("weft-invariants-test-")

// One slot: the plain run takes ready steps in declaration order, so deploy
// happens to go last; a schedule that ranks it higher starts it first.
const release = (fixed: boolean) =>
  workflow("release", { concurrency: 1, invariants: { "deploy after tests": invariants.before("test-*", "deploy") } })
    .step("build", () => "dist")
    .step("test-unit", { after: ["build"] }, () => "ok")
    .step("test-e2e", { after: ["build"] }, () => "ok")
    .step("deploy", { after: fixed ? ["test-unit", "test-e2e"] : ["build"] }, () => "deployed")

// Two slots: the plain run starts migrate and compile, and seed only once
// migrate has ended; a schedule that holds migrate's end back, or ranks
// seed higher, overlaps them. The fix is a resource of capacity 1.
const database = (fixed: boolean) => {
  const db = fixed ? { resources: { db: 1 } } : {}
  return workflow("database", { concurrency: 2, ...db, invariants: { "one database user at a time": invariants.exclusive(["migrate", "seed"]) } })
    .step("migrate", db, () => "migrated")
    .step("compile", () => "compiled")
    .step("seed", db, () => "seeded")
}

describe("verify checks the workflow's invariants", () => {
  it("a deploy that can start before a test: found within the default runs, shrunk, blamed and fixed", async () => {
    const findings = (await verify(release(false), { cwd: folder(), seed: 1 })) as Array<InvariantFinding>
    expect(findings).toHaveLength(1)
    expect(findings[0]).toMatchObject({ kind: "invariant", invariant: "deploy after tests", steps: ["test-unit", "deploy"], seed: 1 })
    expect(findings[0]!.fix).toContain(`add after: ["test-unit"] to step "deploy"`)
    // Shrunk: declaration order but for deploy, no delays.
    expect(findings[0]!.schedule).toEqual({ concurrency: 1, priority: [0, 0, 0, 1], delays: [[0, 0], [0, 0], [0, 0], [0, 0]] })
    expect(await verify(release(true), { cwd: folder(), seed: 1 })).toEqual([])
  })

  it("two database steps that can overlap: found within the default runs, each seed; none once they share a resource", async () => {
    for (const seed of [1, 2]) {
      const findings = await verify(database(false), { cwd: folder(), seed })
      expect(findings).toMatchObject([{ kind: "invariant", invariant: "one database user at a time", steps: ["migrate", "seed"], seed, schedule: { concurrency: 2 } }])
    }
    expect(await verify(database(true), { cwd: folder(), seed: 1 })).toEqual([])
  })

  it("finds an order dependence and a broken invariant in one search, each shrunk for its own cause", async () => {
    const both = release(false)
      .step("a", () => fs.appendFileSync("log.txt", "a"))
      .step("b", () => fs.appendFileSync("log.txt", "b"))
      .step("read", { after: ["a", "b"] }, () => fs.readFileSync("log.txt", "utf8"))
    // The schedules alone: tracing would report a and b as a hazard first.
    const findings = await verify(both, { trace: false, cwd: folder(), seed: 3 })
    expect(findings.map((f) => f.kind).sort()).toEqual(["invariant", "order-dependence"])
    expect(findings.find((f) => f.kind === "order-dependence")).toMatchObject({ step: "read", pair: ["a", "b"] })
    expect(findings.find((f) => f.kind === "invariant")).toMatchObject({ steps: ["test-unit", "deploy"] })
  })

  it("one broken in the plain run is reported once, without a seed or schedule", async () => {
    const wf = workflow("notes", {
      invariants: {
        "the notes name the version": (run) => String(run.step("notes").value).includes(String(run.step("version").value)) || "the notes leave out the version",
        "holds": (run) => run.succeeded("*")
      }
    })
      .step("version", () => "1.2.3")
      .step("notes", () => "Release notes")
    const findings = await verify(wf, { cwd: folder(), runs: 10 })
    expect(findings).toEqual([{
      kind: "invariant",
      invariant: "the notes name the version",
      steps: [],
      seed: undefined,
      schedule: undefined,
      message: `invariant "the notes name the version" broke: the notes leave out the version (in a plain run)`,
      fix: expect.stringContaining("order them with after:")
    }])
  })

  it("a check that names a step the workflow lacks is a definition problem, not a finding", async () => {
    const typo = workflow("t", { invariants: { "typo": (run) => run.succeededBefore("test", "deplyo") } })
      .step("test", () => 1)
      .step("deploy", () => 2)
    const error = await verify(typo, { cwd: folder(), runs: 2 }).catch((e: unknown) => e)
    expect(isDefinitionError(error)).toBe(true)
    expect((error as Error).message).toContain(`invariant "typo" names step "deplyo", which is not a step of this workflow. Did you mean "deploy"?`)
    // A ready-made one too (Plan.make catches it before anything runs: dsl/invariantOptions.test.ts).
    const ready = workflow("r", { invariants: { "x": invariants.exclusive(["migrat", "seed"]) } }).step("migrate", () => 1).step("seed", () => 2)
    await expect(verify(ready, { cwd: folder() })).rejects.toThrow(`invariant "x" names step "migrat", which is not a step of this workflow. Did you mean "migrate"?`)
  })
})
