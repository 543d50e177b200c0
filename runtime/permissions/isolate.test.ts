/**
 * `permissions: { isolate: true }`: a function step in its own Node process
 * under Node's permission model. Each test runs real child processes, from a
 * workflow file written to a temporary folder (the child imports it).
 */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { Event } from "../Event.ts"
import { workflow } from "../../dsl/Workflow.ts"
import { groupAlive } from "../Process.ts"
import { run } from "../Run.ts"
import { weftRoot } from "./isolate.ts"
import { permissionsProblems } from "./options.ts"

const dirs: Array<string> = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

/** Writes a workflow file whose default export chains `steps`, and runs it from its folder. */
const runFile = async (steps: string, files: Record<string, string> = {}) => {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "weft-isolate-")))
  dirs.push(dir)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), text)
  }
  const file = path.join(dir, "wf.ts")
  writeFileSync(file, [
    `import { readFileSync, writeFileSync } from "node:fs"`,
    `import { execFileSync } from "node:child_process"`,
    `import { secret, workflow } from ${JSON.stringify(path.join(weftRoot, "index.ts"))}`,
    `export default workflow("iso")${steps}`
  ].join("\n"))
  const wf = (await import(file)).default
  const events: Array<Event> = []
  const result = await run(wf, { cache: { mode: "off" }, failFast: false, cwd: dir, file, onEvent: (event) => void events.push(event) })
  return { dir, result, events }
}

const logsOf = (events: ReadonlyArray<Event>, step: string) =>
  events.flatMap((event) => (event.type === "step:log" && event.step === step ? [event.text] : []))

describe("isolate: true", () => {
  it("runs the step in another process: inputs and output cross by structured clone, logs come back; other steps stay in-process", async () => {
    const { result, events } = await runFile(`
      .step("a", () => ({ when: new Date(Date.UTC(2024, 0, 1)), m: new Map([["k", 21]]) }))
      .step("b", { needs: ["a"], permissions: { isolate: true } }, ({ a }, ctx) => {
        ctx.log("in child", a.m instanceof Map)
        console.log("console too")
        return { pid: process.pid, out: new Map([["double", a.m.get("k") * 2], ["year", a.when.getUTCFullYear()]]), at: new Date(0) }
      })
      .step("c", () => process.pid)`)
    expect(result.status).toBe("succeeded")
    const b = result.outputs.b as { pid: number; out: Map<string, number>; at: Date }
    expect(b.out).toEqual(new Map([["double", 42], ["year", 2024]]))
    expect(b.at).toBeInstanceOf(Date)
    expect(b.pid).not.toBe(process.pid)
    expect(result.outputs.c).toBe(process.pid)
    expect(logsOf(events, "b")).toEqual(["in child true", "console too"])
  })

  it("reads a declared file; an undeclared read fails naming the step, the path and permissions.read", async () => {
    const { dir, result } = await runFile(`
      .step("declared", { permissions: { isolate: true, read: ["data/**"] } }, () => readFileSync("data/in.txt", "utf8"))
      .step("undeclared", { permissions: { isolate: true, read: ["data/**"] } }, () => readFileSync("secret.txt", "utf8"))`,
      { "data/in.txt": "hello", "secret.txt": "no" })
    expect(result.outputs.declared).toBe("hello")
    expect(result.steps.undeclared?.status).toBe("failed")
    expect(result.steps.undeclared?.error).toBe(`step "undeclared" may not read ${dir}/secret.txt: declare it in permissions.read`)
  })

  it("writes only declared paths", async () => {
    const { dir, result } = await runFile(`
      .step("inside", { permissions: { isolate: true, write: ["out/**"] } }, () => writeFileSync("out/x.txt", "ok"))
      .step("outside", { permissions: { isolate: true, write: ["out/**"] } }, () => writeFileSync("elsewhere.txt", "no"))`,
      { "out/.keep": "" })
    expect(readFileSync(path.join(dir, "out/x.txt"), "utf8")).toBe("ok")
    expect(result.steps.outside?.error).toBe(`step "outside" may not write ${dir}/elsewhere.txt: declare it in permissions.write`)
  })

  it("starts processes only with run: true", async () => {
    const { result } = await runFile(`
      .step("denied", { permissions: { isolate: true } }, () => execFileSync("true").toString())
      .step("allowed", { permissions: { isolate: true, run: true } }, () => execFileSync("echo", ["hi"]).toString())`)
    expect(result.steps.denied?.error).toMatch(/^step "denied" may not start a process \(.*\): declare permissions\.run: true$/)
    expect(result.outputs.allowed).toBe("hi\n")
  })

  it("kills the child's process group when the step times out", async () => {
    const { result, events } = await runFile(`
      .step("slow", { timeout: "500 millis", permissions: { isolate: true } }, (_, ctx) => {
        ctx.log(String(process.pid))
        return new Promise(() => setInterval(() => {}, 1000))
      })`)
    expect(result.steps.slow?.status).toBe("failed")
    const pid = Number(logsOf(events, "slow")[0])
    expect(pid).toBeGreaterThan(0)
    expect(groupAlive(pid)).toBe(false)
  })

  it("gives the child only the declared environment, and masks its secrets in what it reports", async () => {
    process.env.WEFT_ISO_SECRET = "hunter22"
    process.env.WEFT_ISO_HIDDEN = "undeclared"
    try {
      const { events } = await runFile(`
        .step("env", { permissions: { isolate: true, env: [secret("WEFT_ISO_SECRET")] } }, (_, ctx) => {
          console.log(process.env.WEFT_ISO_SECRET, ctx.env.WEFT_ISO_SECRET, String(process.env.WEFT_ISO_HIDDEN))
        })`)
      expect(logsOf(events, "env")).toEqual(["*** *** undefined"])
    } finally {
      delete process.env.WEFT_ISO_SECRET
      delete process.env.WEFT_ISO_HIDDEN
    }
  })

  it("needs the workflow to come from a file", async () => {
    const result = await run(workflow("inline").step("s", { permissions: { isolate: true } }, () => 1), { cache: { mode: "off" } })
    expect(result.steps.s?.error).toMatch(/isolate needs the workflow to come from a file/)
  })

  it("checks the options", () => {
    expect(permissionsProblems({ isolate: "yes" })).toEqual(["permissions.isolate must be true or false, not \"yes\""])
    expect(permissionsProblems({ run: true })).toEqual([expect.stringMatching(/^permissions.run only applies to isolated function steps/)])
    expect(permissionsProblems({ isolate: true, run: true, read: ["data/**"] })).toEqual([])
  })
})
