/**
 * Hazards by tracing, in one run: every verify call here draws no schedule
 * (`runs: 0`), so what is found was found by the traced run alone. Command
 * steps need strace; where it cannot run here (test/globalSetup.ts says so
 * loudly) those tests check the warning instead, as sandbox.test.ts does.
 */
import * as fs from "node:fs"
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { describe, expect, it } from "vitest"
import { sh } from "../dsl/Command.ts"
import { workflow } from "../dsl/Workflow.ts"
import ciPipeline from "../examples/ci-pipeline.ts"
import dataFlow from "../examples/data-flow.ts"
import deploy from "../examples/deploy.ts"
import docsSite from "../examples/docs-site.ts"
import prices from "../examples/prices.ts"
import release from "../examples/release.ts"
import research from "../examples/research.ts"
import { straceProblem } from "./internal/tracing/index.ts"
import { verify, type Finding, type Hazard } from "./index.ts"
import { useFolders } from "../test/fixtures/folders.ts"

const folder = useFolders("weft-tracing-test-")

/** One traced run and nothing else; warnings collected, not printed. */
const traceOnly = async (wf: Parameters<typeof verify>[0], files: Record<string, string> = {}) => {
  const warnings: Array<string> = []
  const findings = await verify(wf, { cwd: folder(files), runs: 0, onWarning: (w) => void warnings.push(w) })
  return { findings, warnings }
}

/** With strace, `check` runs; without, the command steps are named in a warning and nothing is claimed about them. */
const withStrace = async (wf: Parameters<typeof verify>[0], files: Record<string, string>, check: (findings: Array<Finding>) => void) => {
  const { findings, warnings } = await traceOnly(wf, files)
  if (straceProblem() === undefined) {
    expect(warnings).toEqual([])
    return check(findings)
  }
  expect(warnings.join("\n")).toContain("strace cannot trace commands here")
}

const appenders = (ordered: boolean) =>
  workflow("appenders")
    .step("a", sh`echo a >> log.txt`)
    .step("b", { after: ordered ? ["a"] : [] }, sh`echo b >> log.txt`)

describe("tracing finds in one run", () => {
  it("two command steps appending to one file: a write/write hazard naming both", async () => {
    await withStrace(appenders(false), {}, (findings) => {
      expect(findings).toMatchObject([{ kind: "hazard", pair: ["a", "b"], access: "write/write", path: "log.txt" }])
      expect(findings[0]!.fix).toBe(`add after: ["a"] to step "b", so that it always runs after "a".`)
    })
    await withStrace(appenders(true), {}, (findings) => expect(findings).toEqual([]))
  })

  it("a function step reading a file another writes, with no order: a write/read hazard, the reader told to wait", async () => {
    const reading = (ordered: boolean) =>
      workflow("reading")
        .step("write", () => fs.writeFileSync("data.txt", "new"))
        .step("read", { after: ordered ? ["write"] : [] }, () => fs.readFileSync("data.txt", "utf8"))
    const { findings } = await traceOnly(reading(false), { "data.txt": "old" })
    expect(findings).toMatchObject([{ kind: "hazard", pair: ["write", "read"], access: "write/read", writer: "write", path: "data.txt" }])
    expect(findings[0]!.fix).toContain(`add after: ["write"] to step "read"`)
    expect((await traceOnly(reading(true), { "data.txt": "old" })).findings).toEqual([])
  })

  it("one finding per pair, however many paths they share, with the count in the message", async () => {
    const wf = workflow("many")
      .step("a", async () => {
        for (const f of ["x", "y", "z"]) await fs.promises.writeFile(`${f}.txt`, "a")
      })
      .step("b", () => ["x", "y", "z"].forEach((f) => fs.appendFileSync(`${f}.txt`, "b")))
    const { findings } = await traceOnly(wf)
    expect(findings).toMatchObject([{ kind: "hazard", pair: ["a", "b"], path: "x.txt" }])
    expect(findings[0]!.message).toContain("(and 2 more paths)")
  })

  it("sees named imports of node:fs as well as the namespace", async () => {
    const wf = workflow("named")
      .step("a", () => writeFileSync("out.txt", "a"))
      .step("b", () => fs.writeFileSync("out.txt", "b"))
    expect((await traceOnly(wf)).findings).toMatchObject([{ kind: "hazard", pair: ["a", "b"], access: "write/write" }])
  })

  it("a cached command step reading an undeclared file: undeclared-input; declared, nothing", async () => {
    const reader = (inputs: Array<string>) =>
      workflow("cached").step("count", { cache: { inputs } }, sh`wc -l < config.txt`)
    await withStrace(reader([]), { "config.txt": "a\n" }, (findings) => {
      expect(findings).toMatchObject([{ kind: "undeclared-input", step: "count", path: "config.txt" }])
      expect(findings[0]!.fix).toBe(`add "config.txt" to cache.inputs of step "count".`)
    })
    await withStrace(reader(["config.txt"]), { "config.txt": "a\n" }, (findings) => expect(findings).toEqual([]))
    await withStrace(reader(["*.txt"]), { "config.txt": "a\n" }, (findings) => expect(findings).toEqual([]))
  })

  it("a declared input the step never reads: unused-input; a write outside cache.outputs: undeclared-output", async () => {
    const wf = workflow("declared")
      .step("build", { cache: { inputs: ["src/*.ts", "config.txt"], outputs: ["dist/*"] } }, () => {
        fs.readFileSync("config.txt")
        fs.mkdirSync("dist", { recursive: true })
        fs.writeFileSync("dist/app.js", "")
        fs.writeFileSync("stamp.txt", "")
        // A temporary, written and removed: not an output.
        fs.writeFileSync("tmp.txt", "")
        fs.rmSync("tmp.txt")
      })
    const { findings } = await traceOnly(wf, { "config.txt": "" })
    expect(findings).toMatchObject([
      { kind: "undeclared-output", step: "build", path: "stamp.txt" },
      { kind: "unused-input", step: "build", path: "src/*.ts" }
    ])
  })

  it("the user's own folder counts as the workflow's: a step finding its file from import.meta.url reads the same file", async () => {
    const dir = folder({ "config.txt": "" })
    const reader = (inputs: Array<string>) =>
      workflow("absolute").step("read", { cache: { inputs } }, () => fs.readFileSync(path.join(dir, "config.txt"), "utf8"))
    expect(await verify(reader([]), { cwd: dir, runs: 0 })).toMatchObject([{ kind: "undeclared-input", path: "config.txt" }])
    expect(await verify(reader(["config.txt"]), { cwd: dir, runs: 0 })).toEqual([])
  })

  it("steps not cached are not checked against declarations", async () => {
    const wf = workflow("plain").step("read", () => fs.readFileSync("config.txt", "utf8"))
    expect((await traceOnly(wf, { "config.txt": "" })).findings).toEqual([])
  })
})

// integration-tests, rate-limited and research-api are left out: their
// steps wait for real (28, 7.5 and 2.6 s traced here); they gave no finding either.
it("finds nothing in the examples", async () => {
  const examples = path.join(import.meta.dirname, "../examples")
  for (const wf of [ciPipeline, dataFlow, deploy, docsSite, prices, release, research]) {
    expect({ workflow: wf.name, findings: await verify(wf, { cwd: examples, runs: 0, onWarning: () => {} }) }).toEqual({ workflow: wf.name, findings: [] })
  }
})

describe("the traced run", () => {
  it("puts node:fs back afterwards, even when a step throws", async () => {
    const before = { readFileSync: fs.readFileSync, writeFileSync, promisesWriteFile: fs.promises.writeFile }
    const wf = workflow("throws")
      .step("a", () => fs.writeFileSync("x.txt", ""))
      .step("b", () => {
        throw new Error("boom")
      })
    await traceOnly(wf)
    expect({ readFileSync: fs.readFileSync, writeFileSync, promisesWriteFile: fs.promises.writeFile }).toEqual(before)
    const { writeFileSync: now } = await import("node:fs")
    expect(now).toBe(before.writeFileSync)
  })

  it("without strace says so, and the schedules still run and find what they can", async () => {
    const saved = process.env.WEFT_STRACE
    process.env.WEFT_STRACE = "/nonexistent/strace"
    try {
      const warnings: Array<string> = []
      let schedules = 0
      await verify(appenders(false), {
        cwd: folder(),
        runs: 3,
        onWarning: (w) => void warnings.push(w),
        onProgress: (p) => void (schedules = p.schedules)
      })
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toContain(`strace cannot trace commands here (/nonexistent/strace could not be started (ENOENT))`)
      expect(warnings[0]).toContain(`"a", "b"`)
      expect(warnings[0]).toContain("apt-get install strace")
      expect(schedules).toBe(3)
    } finally {
      if (saved === undefined) delete process.env.WEFT_STRACE
      else process.env.WEFT_STRACE = saved
    }
  })

  it("shows the race check's static view beside a traced hazard", async () => {
    const writes = (declared: boolean) =>
      workflow("declared")
        .step("a", { permissions: declared ? { write: ["out.txt"] } : undefined }, () => fs.appendFileSync("out.txt", "a"))
        .step("b", { permissions: declared ? { write: ["out.txt"] } : undefined }, () => fs.appendFileSync("out.txt", "b"))
    const [seen] = (await traceOnly(writes(true))).findings as Array<Hazard>
    expect(seen).toMatchObject({ kind: "hazard", pair: ["a", "b"], path: "out.txt" })
    expect(seen!.declared).toMatch(/"a".*"b".*out\.txt/)
    const [unseen] = (await traceOnly(writes(false))).findings as Array<Hazard>
    expect(unseen).toMatchObject({ kind: "hazard", pair: ["a", "b"], declared: undefined })
  })

  it("traces a function that returns an Effect through its fibers, forked ones included, not through the async context a fiber's turn began in", async () => {
    const wf = workflow("effects", { cache: true })
      .step("sees", async () => {
        await new Promise((resolve) => setTimeout(resolve, 2))
        return fs.readFileSync("a.txt", "utf8")
      })
      .step("effect", () =>
        Effect.gen(function*() {
          yield* Effect.sleep(5)
          const child = yield* Effect.forkChild(Effect.sync(() => fs.readFileSync("b.txt", "utf8")))
          return yield* Fiber.join(child)
        }))
    const { findings, warnings } = await traceOnly(wf, { "a.txt": "", "b.txt": "" })
    expect(warnings).toEqual([])
    expect(findings.map((f) => [f.kind, "step" in f ? f.step : undefined, "path" in f ? f.path : undefined]).sort()).toEqual([
      ["undeclared-input", "effect", "b.txt"],
      ["undeclared-input", "sees", "a.txt"]
    ])
  })

  it("names the steps it cannot see into, and claims nothing about them", async () => {
    const wf = workflow("nested", { cache: true })
      .step("sees", () => fs.readFileSync("a.txt", "utf8"))
      .step("blind", workflow("inner").step("reads", () => fs.readFileSync("a.txt", "utf8")))
    const { findings, warnings } = await traceOnly(wf, { "a.txt": "" })
    expect(findings).toMatchObject([{ kind: "undeclared-input", step: "sees" }])
    expect(warnings).toEqual([
      `not traced, so their hazards and cache declarations are left to the schedules: step "blind" (it runs a sub-workflow, whose steps are not traced).`
    ])
  })

  it("trace: false draws schedules only", async () => {
    const wf = workflow("reading")
      .step("write", () => fs.writeFileSync("data.txt", "new"))
      .step("read", () => fs.readFileSync("data.txt", "utf8"))
    expect(await verify(wf, { cwd: folder({ "data.txt": "old" }), runs: 0, trace: false })).toEqual([])
  })
})
