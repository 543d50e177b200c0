/**
 * The static race check: which steps may run at the same time and touch the
 * same declared files, and how it says so.
 */
import { readdirSync } from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { workflow } from "../dsl/index.ts"
import type { StepDef } from "../dsl/Step.ts"
import { isWorkflow, Workflow } from "../dsl/Workflow.ts"
import docsSite from "../examples/docs-site.ts"
import release from "../examples/release.ts"
import { resolveCacheOptions } from "./cache/options.ts"
import type { Event } from "./Event.ts"
import * as Plan from "./Plan.ts"
import { overlap, raceCheck } from "./raceCheck.ts"
import { run } from "./Run.ts"

const check = (wf: Workflow<any>) => raceCheck(Plan.make(wf))
const messages = (wf: Workflow<any>) => check(wf).conflicts.map((c) => c.message)

/** What a step declares it writes, as the race check counts it: `permissions.write` and `cache.outputs`. */
const writesOf = (wf: Workflow<any>, def: StepDef): ReadonlyArray<string> => [
  ...((def.permissions ?? wf.options.permissions)?.write ?? []),
  ...(resolveCacheOptions(def.cache, wf.options.cache)?.outputs ?? [])
]

/** A copy of `wf` with some steps' options changed. */
const copyOf = (wf: Workflow<any>, changes: Record<string, Partial<StepDef>>): Workflow<any> =>
  Workflow.make(wf.name, wf.options, wf.steps.map((def) => ({ ...def, ...changes[def.id] })))

describe("overlap", () => {
  it.each([
    ["dist/**", "dist/app.js", "dist/"],
    ["dist", "dist/app.js", "dist"],
    ["./dist/app.js", "dist/app.js", "dist/app.js"],
    ["src/a*.ts", "src/abc.ts", "src/a"],
    ["**/*.js", "dist/app.js", "."],
    ["dist/*.js", "dist/**", "dist/"]
  ])("%s and %s may both match %s", (x, y, shared) => {
    expect(overlap(x, y)).toBe(shared)
    expect(overlap(y, x)).toBe(shared)
  })

  it.each([
    ["dist/**", "build/**"],
    ["dist", "dist2"],
    ["dist/app.js", "dist/app.jsx"],
    ["src/a*.ts", "src/b.ts"],
    ["out/a/**", "out/b/*.js"]
  ])("%s and %s cannot", (x, y) => {
    expect(overlap(x, y)).toBeUndefined()
    expect(overlap(y, x)).toBeUndefined()
  })
})

describe("raceCheck", () => {
  it("finds two unordered steps writing the same folder, counting cache.outputs as writes", () => {
    const wf = workflow("w")
      .step("a", { permissions: { write: ["dist/**"] } }, () => 1)
      .step("b", { cache: { outputs: ["dist/app.js"] } }, () => 2)
    expect(messages(wf)).toEqual([
      `steps "a" and "b" may run at the same time and both write dist/ (a: dist/**, b: dist/app.js); add needs/after between them or write to separate paths`
    ])
  })

  it("finds a step writing what an unordered step reads (permissions.read or cache.inputs), once per pair", () => {
    const wf = workflow("w")
      .step("lint", { permissions: { read: ["gen/**"] } }, () => 1)
      .step("codegen", { permissions: { write: ["gen/types.ts"], read: ["schema.json"] } }, () => 2)
      .step("test", { cache: { inputs: ["gen/types.ts"] } }, () => 3)
    const { conflicts, complete } = check(wf)
    expect(complete).toBe(true)
    expect(conflicts.map((c) => [c.a, c.b, c.kind, c.writer])).toEqual([
      ["lint", "codegen", "write/read", "codegen"],
      ["codegen", "test", "write/read", "codegen"]
    ])
    expect(conflicts[0]!.message).toBe(
      `steps "lint" and "codegen" may run at the same time and "codegen" writes gen/, which "lint" reads (lint: gen/**, codegen: gen/types.ts); add needs/after between them or write to separate paths`
    )
  })

  it("reports a pair of writers that also read each other's files once, as write/write", () => {
    const wf = workflow("w")
      .step("a", { permissions: { write: ["out/x"], read: ["out/y"] } }, () => 1)
      .step("b", { permissions: { write: ["out/y", "out/x"], read: ["out/x"] } }, () => 2)
    expect(check(wf).conflicts.map((c) => [c.a, c.b, c.kind])).toEqual([["a", "b", "write/write"]])
  })

  it("does not report steps ordered by needs or after, directly or transitively, in either direction", () => {
    const writes = { permissions: { write: ["dist/**"] } }
    const wf = workflow("w")
      .step("a", writes, () => 1)
      .step("b", { ...writes, needs: ["a"] }, () => 2)
      .step("mid", { after: ["b"] }, () => 3)
      .step("c", { ...writes, after: ["mid"] }, () => 4)
      .step("d", { needs: ["c"], permissions: { read: ["dist/app.js"] } }, () => 5)
    expect(check(wf)).toEqual({ conflicts: [], complete: true })
  })

  it("does not report disjoint paths", () => {
    const wf = workflow("w")
      .step("a", { permissions: { write: ["dist/**"], read: ["src/**"] } }, () => 1)
      .step("b", { permissions: { write: ["build/**", "dist2"], read: ["src/**"] } }, () => 2)
      .step("c", { cache: { inputs: ["src/**"], outputs: ["coverage/**"] } }, () => 3)
    expect(check(wf)).toEqual({ conflicts: [], complete: true })
  })

  it("uses the workflow's permissions for a step without its own, and a step's own replace them", () => {
    const wf = workflow("w", { permissions: { write: ["out/**"] } })
      .step("a", () => 1)
      .step("b", () => 2)
      .step("c", { permissions: { env: [] } }, () => 3)
    expect(check(wf).conflicts.map((c) => [c.a, c.b])).toEqual([["a", "b"]])
  })

  it("finds no conflict in any example workflow, though several declare what they write", async () => {
    const dir = path.join(import.meta.dirname, "../examples")
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    let checked = 0
    const writing = new Map<string, Array<string>>()
    for (const file of files) {
      const module = (await import(path.join(dir, file))) as Record<string, unknown>
      for (const value of Object.values(module)) {
        if (!isWorkflow(value)) continue
        checked++
        expect({ file, ...check(value) }).toEqual({ file, conflicts: [], complete: true })
        const writers = value.steps.filter((def) => writesOf(value, def).length > 0).map((def) => def.id)
        if (writers.length > 0) writing.set(file, writers)
      }
    }
    // Every example file is a workflow but sleep.ts, a helper.
    expect(checked).toBeGreaterThanOrEqual(files.length - 1)
    // Without declared writes "no conflict" would prove nothing: these examples write files and say so,
    // with writers that run side by side (the pages; build and notes) on neighbouring paths.
    expect(writing.size).toBeGreaterThanOrEqual(2)
    expect(writing.get("docs-site.ts")).toEqual(["intro", "guide", "api", "index"])
    expect(writing.get("release.ts")).toEqual(["build", "notes"])
  })

  it("finds the conflicts planted in copies of the examples", () => {
    // The link check reads the built site but waits only for the pages, not the index being written beside it.
    const readsSite = copyOf(docsSite, { links: { permissions: { read: ["docs-site/_site/**"] } } })
    expect(check(readsSite).conflicts.map((c) => [c.a, c.b, c.kind, c.writer])).toEqual([["index", "links", "write/read", "index"]])
    // One page renders to another's file.
    const clash = copyOf(docsSite, { guide: { cache: { inputs: ["docs-site/guide.md"], outputs: ["docs-site/_site/intro.html"] } } })
    expect(check(clash).conflicts.map((c) => [c.a, c.b, c.kind])).toEqual([["intro", "guide", "write/write"]])
    // Publishing reads the build without waiting for it.
    const early = copyOf(release, { publish: { after: [], permissions: { read: ["tmp/release/**"] } } })
    expect(check(early).conflicts.map((c) => [c.a, c.b, c.kind, c.writer])).toEqual([["build", "publish", "write/read", "build"]])
  })

  // How long this takes is measured by \`npm run bench\` (bench/limits.ts), not here.
  it("checks 10,000 steps completely, and bounds the work when the graph is huge", () => {
    // Built in a loop, so typed loosely: the builder's types track each literal id.
    let wf: any = workflow("big")
    for (let i = 0; i < 10_000; i++) {
      const needs = i === 0 ? [] : [`s${i - 1}`]
      const permissions = i % 100 === 0 ? { write: [`dist/${i}/**`], read: ["src/**"] } : { read: [`dist/${i - 1}/x`] }
      wf = wf.step(`s${i}`, { needs, permissions }, () => i)
    }
    // Two racing writers at the end, to show the search reached them.
    wf = wf.step("x", { permissions: { write: ["gen/**"] } }, () => 1).step("y", { permissions: { write: ["gen/a"] } }, () => 2)
    const plan = Plan.make(wf)
    const result = raceCheck(plan)
    expect(result.complete).toBe(true)
    expect(result.conflicts.map((c) => [c.a, c.b])).toEqual([["x", "y"]])
    expect(raceCheck(plan, { maxVisits: 1000 }).complete).toBe(false)
  })
})

describe("a run", () => {
  it("warns about each conflict with a run:warning before any step starts", async () => {
    const wf = workflow("w")
      .step("a", { permissions: { write: ["dist/**"] } }, () => 1)
      .step("b", { permissions: { write: ["dist/app.js"] } }, () => 2)
      .step("c", { needs: ["a", "b"], permissions: { write: ["dist/**"] } }, () => 3)
    const events: Array<Event> = []
    const result = await run(wf, { onEvent: (e) => events.push(e), cache: { mode: "off" } })
    expect(result.status).toBe("succeeded")
    const warnings = events.flatMap((e, i) => (e.type === "run:warning" ? [{ i, message: e.message }] : []))
    expect(warnings.map((w) => w.message)).toEqual([
      `steps "a" and "b" may run at the same time and both write dist/ (a: dist/**, b: dist/app.js); add needs/after between them or write to separate paths`
    ])
    const firstStart = events.findIndex((e) => e.type === "step:start")
    expect(warnings[0]!.i).toBeLessThan(firstStart)
  })
})
