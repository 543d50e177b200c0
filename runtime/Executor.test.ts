/**
 * The executor seam: a recording fake keeps the contract (`Executor.contract.ts`),
 * `run(wf, { executor })` hands it every body (functions, commands,
 * sub-workflows alike), and the executor module wires no feature itself.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { afterAll, describe, expect, it } from "vitest"
import { cmd } from "../dsl/Command.ts"
import { workflow } from "../dsl/Workflow.ts"
import { executorContract, recording } from "./Executor.contract.ts"
import type { Executor } from "./Executor.ts"
import { createActor } from "xstate"
import { compile } from "./Machine.ts"
import { run } from "./Run.ts"

/**
 * A fake that runs a function step's function itself, with a bare context
 * (`attempt`, `log`): no console capture, no memo scope, no child process.
 * What it returns or throws is the body's result; a promise is awaited, and
 * interrupting the body stops waiting.
 */
const fake = (): Executor => ({
  name: "fake",
  run: (step) =>
    Effect.suspend(() => {
      const fn = step.def.run as (inputs: unknown, ctx: unknown) => unknown
      const ctx = { stepId: step.id, attempt: step.attempt, log: (text: string) => step.report({ type: "step:log", stream: "log", text }) }
      let value: unknown
      try {
        value = fn(step.inputs, ctx)
      } catch (error) {
        return Effect.fail(error)
      }
      return value instanceof Promise ? Effect.tryPromise({ try: () => value as Promise<unknown>, catch: (error) => error }) : Effect.succeed(value)
    })
})

executorContract("a recording fake", fake)

const dirs: Array<string> = []
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))

describe("run(wf, { executor })", () => {
  it("routes every body to the executor given, whatever runs it: a function, a command, a sub-workflow", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "weft-executor-"))
    dirs.push(dir)
    const marker = path.join(dir, "ran")
    const sub = workflow("sub").step("inner", () => {
      throw new Error("the sub-workflow ran here")
    })
    const wf = workflow("w")
      .step("fn", () => {
        throw new Error("the function ran here")
      })
      .step("command", cmd(["touch", marker]))
      .step("nested", sub)
    const calls = recording({ name: "answers", run: (step) => Effect.succeed(`answered ${step.id}`) })
    const result = await run(wf, { cwd: dir, cache: { mode: "off" }, executor: calls.executor })
    expect(result.outputs).toEqual({ fn: "answered fn", command: "answered command", nested: "answered nested" })
    expect(calls.calls.map((c) => c.id).sort()).toEqual(["command", "fn", "nested"])
    expect(existsSync(marker)).toBe(false)
  })

  it("checks the option: an executor is { name, run }", async () => {
    await expect(run(workflow("w").step("a", () => 1), { executor: {} as Executor })).rejects.toThrow(/run option executor must be an executor/)
  })
})

describe("the run's fibers", () => {
  it("live in the run's scope: stopping the run's actor interrupts every body still running", async () => {
    const interrupted: Array<string> = []
    const body = (id: string) => () => Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => void interrupted.push(id))))
    const wf = workflow("w").step("a", body("a")).step("b", body("b"))
    const actor = createActor(compile(wf, { cache: { mode: "off" } }))
    const started = new Promise<void>((resolve) => {
      let n = 0
      actor.on("step:start", () => ++n === 2 && resolve())
    })
    actor.start()
    await started
    actor.stop()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(interrupted.sort()).toEqual(["a", "b"])
  })
})

describe("the executor module", () => {
  /** Relative imports of a module's source. */
  const importsOf = (file: string) =>
    [...readFileSync(path.join(import.meta.dirname, file), "utf8").matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]!)))

  it("imports no feature: it sets up the list features.ts composes", () => {
    const featureModules = importsOf("features.ts").filter((m) => m !== "Pipeline.ts" && m !== "StepReport.ts")
    expect(featureModules).toEqual(expect.arrayContaining(["cache/runCache.ts", "journal/stage.ts", "permissions/stage.ts", "watch/keep.ts", "retrying.ts", "rateLimiting.ts"]))
    const executor = importsOf("Executor.ts")
    expect(executor).toContain("features.ts")
    expect(executor.filter((m) => featureModules.includes(m))).toEqual([])
  })
})
