/**
 * Editing a workflow file between two `weft run`s: a cached function step
 * whose own source (its body, the helpers and local modules it uses) did not
 * change stays cached; one whose source did, or whose source cannot be
 * proven, runs again. Each case is a temp folder with a `weft.ts` whose steps
 * append their id to `ran.log` when they really run, and return a value that
 * names the version of the code they ran.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, it } from "vitest"
import { eventsOf, removeTempDirs, repoRoot, tempDir, weft, type WeftResult } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/** The pieces of `weft.ts` an edit replaces. */
interface Parts {
  readonly head: string
  readonly onlyA: string
  readonly shared: string
  readonly a: string
  readonly b: string
  readonly tail: string
}

const base: Parts = {
  head: "",
  onlyA: `const onlyA = (s: string): string => s + "-a1"`,
  shared: `const shared = (s: string): string => s + "-s1"`,
  a: `() => (ran("a"), shared(onlyA(fromLib("a"))))`,
  b: `() => (ran("b"), shared("b"))`,
  tail: ""
}

const module = (parts: Partial<Parts> = {}): string => {
  const p = { ...base, ...parts }
  return `import { appendFileSync } from "node:fs"
import * as path from "node:path"
import { workflow } from ${JSON.stringify(path.join(repoRoot, "dsl/index.ts"))}
import { fromLib } from "./lib.ts"
${p.head}
const ran = (id: string) => appendFileSync(path.join(import.meta.dirname, "ran.log"), id + "\\n")
${p.onlyA}
${p.shared}

export default workflow("edits", { cache: true })
  .step("a", ${p.a})
  .step("b", ${p.b})${p.tail}
`
}

const lib = (version: string) => `export const fromLib = (s: string): string => s + "-lib${version}"\n`

/** A folder with `weft.ts` and `lib.ts` (which only step a uses). */
const project = (parts: Partial<Parts> = {}): string => {
  const dir = tempDir("weft-cache-edits-")
  writeFileSync(path.join(dir, "weft.ts"), module(parts))
  writeFileSync(path.join(dir, "lib.ts"), lib("1"))
  return dir
}

/** Runs `weft run` in `dir`: what each step ended as, the outputs, and which steps really ran. */
const runIn = async (dir: string) => {
  const logFile = path.join(dir, "ran.log")
  writeFileSync(logFile, "")
  const r = await weft(["run", "weft.ts", "--reporter", "json"], { cwd: dir })
  if (r.code !== 0) throw new Error(shown(r))
  const events = eventsOf(r.stdout)
  const status = Object.fromEntries(events.flatMap((e) => (e.type === "step:end" ? [[e.step, e.status]] : [])))
  const ran = existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").filter((l) => l !== "").sort() : []
  return { status, ran, r }
}

/** Runs once to fill the cache, applies `edit`, runs again: which steps ran the second time. */
const afterEdit = async (edit: (dir: string) => void, parts: Partial<Parts> = {}) => {
  const dir = project(parts)
  const first = await runIn(dir)
  if (!(first.ran.includes("a") && first.ran.includes("b"))) throw new Error(`first run should run both:\n${shown(first.r)}`)
  edit(dir)
  return { ...(await runIn(dir)), dir }
}

const rewrite = (dir: string, parts: Partial<Parts>) => writeFileSync(path.join(dir, "weft.ts"), module(parts))

describe("weft run after an edit to the workflow's code", () => {
  it("an edit to step a's body reruns a; b, untouched, is a cache hit", async ({ expect }) => {
    const second = await afterEdit((dir) => rewrite(dir, { a: `() => (ran("a"), shared(onlyA(fromLib("A"))))` }))
    expect(second.ran, shown(second.r)).toEqual(["a"])
    expect(second.status).toEqual({ a: "succeeded", b: "cached" })
  })

  it("an edit to a top-level helper only a uses reruns a; b is a hit", async ({ expect }) => {
    const second = await afterEdit((dir) => rewrite(dir, { onlyA: `const onlyA = (s: string): string => s + "-a2"` }))
    expect(second.ran, shown(second.r)).toEqual(["a"])
    expect(second.status).toEqual({ a: "succeeded", b: "cached" })
  })

  it("an edit to a local module only a imports reruns a; b is a hit", async ({ expect }) => {
    const second = await afterEdit((dir) => writeFileSync(path.join(dir, "lib.ts"), lib("2")))
    expect(second.ran, shown(second.r)).toEqual(["a"])
    expect(second.status).toEqual({ a: "succeeded", b: "cached" })
  })

  it("the function steps of an .each stay cached through an edit elsewhere, and rerun after an edit to their own code", async ({ expect }) => {
    const each = (body: string) => ({ tail: `\n  .each("e", ["x", "y"], (i: string) => () => (ran("e" + i), ${body}))` })
    const second = await afterEdit((dir) => rewrite(dir, { ...each("i"), a: `() => (ran("a"), "edited")` }), each("i"))
    expect(second.ran, shown(second.r)).toEqual(["a"])
    expect(second.status).toEqual({ a: "succeeded", b: "cached", "e:x": "cached", "e:y": "cached", e: "cached" })
    rewrite(second.dir, { ...each("i + i"), a: `() => (ran("a"), "edited")` })
    const third = await runIn(second.dir)
    expect(third.ran, shown(third.r)).toEqual(["ex", "ey"])
  })

  it("an edit to a helper both use reruns both", async ({ expect }) => {
    const second = await afterEdit((dir) => rewrite(dir, { shared: `const shared = (s: string): string => s + "-s2"` }))
    expect(second.ran, shown(second.r)).toEqual(["a", "b"])
  })

  it("steps sharing module-level state: editing the step that writes it reruns the step that reads it", async ({ expect }) => {
    // b reads what a pushed: b's own code and the array's declaration do not change when a's body does.
    const shared = {
      head: `const collected: Array<string> = []`,
      a: `() => (ran("a"), collected.push("a1"), "a")`,
      b: `() => (ran("b"), collected.join(","))`,
      tail: ""
    }
    const dir = project(shared)
    // b after a, so it sees the push.
    const ordered = (parts: Partial<Parts>) => module(parts).replace(`.step("b", `, `.step("b", { after: ["a"] }, `)
    writeFileSync(path.join(dir, "weft.ts"), ordered(shared))
    const first = await runIn(dir)
    expect(first.ran, shown(first.r)).toEqual(["a", "b"])
    writeFileSync(path.join(dir, "weft.ts"), ordered({ ...shared, a: `() => (ran("a"), collected.push("a2"), "a")` }))
    const second = await runIn(dir)
    expect(second.ran, shown(second.r)).toEqual(["a", "b"])
    expect(eventsOf(second.r.stdout).some((e) => e.type === "step:end" && e.step === "b" && e.status === "cached")).toBe(false)
  })

  it("a module whose steps cannot be proven (a reassigned top-level let) falls back to the whole file: any edit reruns every function step", async ({ expect }) => {
    const unprovable = {
      head: `let suffix = "!"\nsuffix = "!!"`,
      shared: `const shared = (s: string): string => s + suffix`
    }
    const second = await afterEdit((dir) => rewrite(dir, { ...unprovable, onlyA: `const onlyA = (s: string): string => s + "-a2"` }), unprovable)
    expect(second.ran, shown(second.r)).toEqual(["a", "b"])
  })

  it("a file that changes while it loads says so, and its function steps' results are never reused: the next run does not get what the old code made", async ({ expect }) => {
    // Loading v1 rewrites the file to v2, whose helper (only a uses it) differs: the code that ran is v1's, the disk holds v2.
    const selfEditing = {
      head: `import { readFileSync, writeFileSync } from "node:fs"
const own = readFileSync(import.meta.filename, "utf8")
if (own.includes("-a" + "1\\"")) writeFileSync(import.meta.filename, own.replace("-a" + "1\\"", "-a" + "2\\""))`,
      // Not cached: records the value a gave it, hit or not.
      tail: `\n  .step("see", { needs: ["a"], cache: false }, ({ a }: { a: string }) => ran("see " + a))`
    }
    const dir = project(selfEditing)
    const first = await runIn(dir)
    expect(first.ran, shown(first.r)).toEqual(["a", "b", "see a-lib1-a1-s1"])
    expect(first.r.stdout + first.r.stderr).toContain("weft.ts (or a module it imports) changed while weft loaded it: its function steps are not reused from the cache")
    expect(readFileSync(path.join(dir, "weft.ts"), "utf8")).toContain(`"-a2"`)
    const second = await runIn(dir)
    expect(second.ran, shown(second.r)).toEqual(expect.arrayContaining(["a", "see a-lib1-a2-s1"]))
  })
})
