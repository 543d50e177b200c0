/**
 * The static race check: which steps may run at the same time and touch the
 * same declared files, and how it says so.
 */
import { readdirSync } from "node:fs"
import * as path from "node:path"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { workflow } from "../dsl/index.ts"
import { makeStepDef, type StepDef } from "../dsl/Step.ts"
import { isWorkflow, Workflow } from "../dsl/Workflow.ts"
import docsSite from "../examples/docs-site.ts"
import release from "../examples/release.ts"
import { resolveCacheOptions } from "../dsl/cacheOptions.ts"
import type { Event } from "./Event.ts"
import * as Plan from "./Plan.ts"
import { overlap, raceCheck, type Conflict } from "./raceCheck.ts"
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

/**
 * The check as first written, kept as the model: every writer compared with
 * every step that declares a glob in one of its folders, and a search of the
 * whole graph from each writer that overlaps some step. Slow, and plainly right.
 */
const reference = (plan: Plan.Plan): Array<Conflict> => {
  const n = plan.steps.length
  const pathsOf = (def: StepDef) => {
    const permissions = def.permissions ?? plan.workflow.options?.permissions
    const cache = resolveCacheOptions(def.cache, plan.workflow.options?.cache)
    return { write: [...(permissions?.write ?? []), ...(cache?.outputs ?? [])], read: [...(permissions?.read ?? []), ...(cache?.inputs ?? [])] }
  }
  const paths = plan.steps.map(pathsOf)
  const declaring = [...paths.keys()].filter((i) => paths[i]!.write.length + paths[i]!.read.length > 0)
  const folderOf = (glob: string) => {
    const clean = glob.replace(/^(\.\/)+/, "").replace(/\/{2,}/g, "/")
    const at = clean.search(/[*?[\]{}!()]/)
    const prefix = at === -1 ? clean.replace(/\/$/, "") : clean.slice(0, at)
    return prefix.includes("/") ? prefix.slice(0, prefix.indexOf("/")) : at === -1 ? prefix : ""
  }
  const folders = paths.map(({ write, read }) => new Set([...write, ...read].map(folderOf)))
  const inFolder = (f: string) => declaring.filter((i) => folders[i]!.has(f))
  const first = (xs: ReadonlyArray<string>, ys: ReadonlyArray<string>) => {
    for (const x of xs) for (const y of ys) if (overlap(x, y) !== undefined) return { x, y, path: overlap(x, y)! }
    return undefined
  }
  const reach = (from: number, edges: ReadonlyArray<ReadonlyArray<number>>) => {
    const found = new Set<number>()
    for (const stack = [from]; stack.length > 0;) for (const next of edges[stack.pop()!]!) if (!found.has(next)) stack.push(found.add(next) && next)
    return found
  }
  const conflicts: Array<Conflict> = []
  const pairs = new Set<string>()
  for (const w of declaring) {
    const mine = paths[w]!.write
    if (mine.length === 0) continue
    const theirs = [...new Set(mine.map(folderOf))]
    const others = theirs.includes("") ? declaring : [...new Set([...theirs, ""].flatMap(inFolder))]
    const ordered = new Set([...reach(w, plan.deps), ...reach(w, plan.dependents)])
    for (const o of others) {
      if (o === w || ordered.has(o)) continue
      const ww = o > w && paths[o]!.write.length > 0 ? first(mine, paths[o]!.write) : undefined
      const wr = ww === undefined ? first(mine, paths[o]!.read) : undefined
      const found = ww ?? wr
      const pair = [Math.min(w, o), Math.max(w, o)].join(" ")
      if (found === undefined || pairs.has(pair)) continue
      pairs.add(pair)
      const [a, b] = w < o ? [plan.ids[w]!, plan.ids[o]!] : [plan.ids[o]!, plan.ids[w]!]
      const [globA, globB] = w < o ? [found.x, found.y] : [found.y, found.x]
      const fix = "add needs/after between them or write to separate paths"
      conflicts.push(ww !== undefined
        ? { a, b, kind: "write/write", path: found.path, globA, globB, message: `steps "${a}" and "${b}" may run at the same time and both write ${found.path} (${a}: ${globA}, ${b}: ${globB}); ${fix}` }
        : {
          a, b, kind: "write/read", writer: plan.ids[w]!, path: found.path, globA, globB,
          message: `steps "${a}" and "${b}" may run at the same time and "${plan.ids[w]}" writes ${found.path}, which "${plan.ids[o]}" reads (${a}: ${globA}, ${b}: ${globB}); ${fix}`
        })
    }
  }
  return conflicts
}

/** Globs from a few short names, so that prefixes often nest: `a/**`, `./ab//b`, `a*`, `*.js`, `b/`. */
const glob = fc
  .tuple(fc.constantFrom("", "./"), fc.array(fc.constantFrom("a", "b", "ab", "*", "**", "a*", "*.js", "{a,b}"), { minLength: 1, maxLength: 3 }), fc.constantFrom("", "/", "//"))
  .map(([dot, parts, slash]) => dot + parts.join(slash === "//" ? "//" : "/") + (slash === "/" ? "/" : ""))
const globs = fc.array(glob, { maxLength: 2 })

/** A step: indices of earlier steps it waits for, and what it declares through permissions and cache. */
const stepModel = fc.record({
  needs: fc.array(fc.nat(), { maxLength: 2 }),
  after: fc.array(fc.nat(), { maxLength: 1 }),
  permissions: fc.option(fc.record({ write: globs, read: globs }), { nil: undefined }),
  cache: fc.option(fc.record({ outputs: globs, inputs: globs }), { nil: undefined })
})
const workflowModel = fc.record({
  steps: fc.array(stepModel, { minLength: 1, maxLength: 9 }),
  permissions: fc.option(fc.record({ write: globs, read: globs }), { nil: undefined })
})

const fromModel = (model: typeof workflowModel extends fc.Arbitrary<infer M> ? M : never): Workflow<any> =>
  Workflow.make("random", { ...(model.permissions && { permissions: model.permissions }) }, model.steps.map((step, i) => {
    const earlier = (ks: ReadonlyArray<number>) => (i === 0 ? [] : [...new Set(ks.map((k) => `s${k % i}`))])
    return makeStepDef(`s${i}`, { needs: earlier(step.needs), after: earlier(step.after), permissions: step.permissions, cache: step.cache }, () => i)
  }))

describe("raceCheck against the simple search it replaced", () => {
  it("finds the same conflicts, in the same order, with the same messages, in random workflows", () => {
    fc.assert(
      fc.property(workflowModel, (model) => {
        const plan = Plan.make(fromModel(model))
        expect(raceCheck(plan)).toEqual({ conflicts: reference(plan), complete: true })
      }),
      { numRuns: 2000 }
    )
  })

  it("agrees with more than a thousand racing writers (several passes over the graph, many bits per step)", () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        // A small generator of its own: fast-check would shrink 2,000 steps one at a time.
        let state = seed >>> 0
        const next = (k: number) => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) % k
        const defs = Array.from({ length: 2000 }, (_, i) => {
          const needs = i === 0 ? [] : [...new Set([next(i), i - 1 - next(Math.min(i, 20))])].map((d) => `s${d}`)
          const folder = `f${next(100)}`
          const permissions = next(3) === 0 ? { read: [`${folder}/${next(4)}`] } : { write: [[`${folder}/${next(4)}`, `${folder}/**`, `${folder}/${next(4)}/*.js`][next(3)]!] }
          return makeStepDef(`s${i}`, { needs, permissions }, () => i)
        })
        const plan = Plan.make(Workflow.make("big", {}, defs))
        const found = raceCheck(plan)
        expect(found.complete).toBe(true)
        expect(found.conflicts.length).toBeGreaterThan(1000)
        expect(found.conflicts).toEqual(reference(plan))
      }),
      { numRuns: 3 }
    )
  })
})
