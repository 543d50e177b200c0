/**
 * The contract every `Executor` keeps, run by one test per implementation
 * (local, isolated, and a recording fake). An executor decides where a body
 * runs, never whether or when: each check wraps the executor under test in a
 * recorder and asserts on the bodies it was handed. A step kept, replayed
 * from the journal or answered by the cache never reaches it; a step retried
 * `times` times reaches it `times + 1` times; a rate-limited step reaches it
 * only once its turn came; and interrupting the run interrupts the body.
 *
 * The workflows come from a file (an isolated body loads its step from it).
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { afterAll, describe, expect, it } from "vitest"
import type { Event } from "./Event.ts"
import type { Executor, StepBody } from "./Executor.ts"
import { weftRoot } from "./permissions/isolate.ts"
import { run, type RunOptions } from "./Run.ts"

/** One body an executor was handed: which step, which attempt, its inputs, and when (epoch ms). */
export interface Call {
  readonly id: string
  readonly attempt: number
  readonly inputs: Readonly<Record<string, unknown>>
  readonly at: number
}

/** `executor`, recording every body it is handed before handing it on. */
export const recording = (executor: Executor): { readonly executor: Executor; readonly calls: Array<Call> } => {
  const calls: Array<Call> = []
  return {
    calls,
    executor: {
      name: `recording ${executor.name}`,
      run: (step: StepBody) =>
        Effect.suspend(() => {
          calls.push({ id: step.id, attempt: step.attempt, inputs: step.inputs, at: Date.now() })
          return executor.run(step)
        })
    }
  }
}

/** Runs `steps` (the chain after `workflow("contract", options)`) from a workflow file in `dir`, through `executor`. */
const runIn = async (dir: string, name: string, chain: string, executor: Executor, options: RunOptions = {}, workflowOptions = "{}") => {
  const file = path.join(dir, `${name}.ts`)
  writeFileSync(file, [
    `import { workflow } from ${JSON.stringify(path.join(weftRoot, "index.ts"))}`,
    `export default workflow("contract-${name}", ${workflowOptions})${chain}`
  ].join("\n"))
  const wf = (await import(file)).default
  const events: Array<Event> = []
  const recorder = recording(executor)
  const result = await run(wf, { cwd: dir, file, failFast: false, cache: { mode: "off" }, weftDir: path.join(dir, ".weft"), ...options, executor: recorder.executor, onEvent: (e) => {
    events.push(e)
    options.onEvent?.(e)
  } })
  return { result, events, calls: recorder.calls }
}

/** The contract suite for the executor `make` returns (one per test, so a fake's state does not leak between them). */
export const executorContract = (name: string, make: () => Executor, timeoutMs = 30_000): void => {
  describe(`Executor contract: ${name}`, () => {
    const dirs: Array<string> = []
    afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })))
    const tempDir = () => {
      const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "weft-executor-contract-")))
      mkdirSync(path.join(dir, ".weft"))
      dirs.push(dir)
      return dir
    }

    it("runs each body once, with its inputs and attempt; its output, logs and failure come back", async () => {
      const { result, events, calls } = await runIn(tempDir(), "basic", `
        .step("a", () => 20)
        .step("b", { needs: ["a"] }, ({ a }, ctx) => {
          ctx.log("b got " + a + " on attempt " + ctx.attempt)
          return a + 1
        })
        .step("c", () => {
          throw new Error("c broke")
        })`, make())
      expect(result.outputs).toEqual({ a: 20, b: 21 })
      expect(result.steps.c).toMatchObject({ status: "failed", error: "c broke" })
      expect(events).toContainEqual(expect.objectContaining({ type: "step:log", step: "b", text: "b got 20 on attempt 1" }))
      expect(calls.map((c) => [c.id, c.attempt]).sort()).toEqual([["a", 1], ["b", 1], ["c", 1]])
      expect(calls.find((c) => c.id === "b")!.inputs).toEqual({ a: 20 })
    }, timeoutMs)

    it("a step retried `times` times is handed over times + 1 times, one attempt each", async () => {
      const { result, calls } = await runIn(tempDir(), "retry", `
        .step("r", { retry: { times: 2, delay: 0 } }, () => {
          throw new Error("no")
        })`, make())
      expect(result.steps.r).toMatchObject({ status: "failed", attempts: 3 })
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3])
    }, timeoutMs)

    it("a kept step, a journaled step on resume and a cache hit never reach the executor", async () => {
      const dir = tempDir()
      const chain = `
        .step("k", () => "kept?")
        .step("j", () => "journaled")
        .step("c", { cache: true }, () => "cached")
        .step("f", () => {
          throw new Error("fails, so the run can be resumed")
        })`
      const options: RunOptions = { cache: { mode: "use", dir: path.join(dir, "cache") }, journal: true }
      const first = await runIn(dir, "skip", chain, make(), options)
      expect(first.calls.map((c) => c.id).sort()).toEqual(["c", "f", "j", "k"])
      const second = await runIn(dir, "skip", chain, make(), { ...options, resume: true, keep: new Map([["k", { value: "kept", durationMs: 1 }]]) })
      expect(second.result.outputs).toMatchObject({ k: "kept", j: "journaled", c: "cached" })
      expect(second.calls.map((c) => c.id)).toEqual(["f"])
    }, timeoutMs)

    it("a rate-limited body is handed over only once its turn came", async () => {
      const { result, calls } = await runIn(tempDir(), "limit", `
        .step("x", { rateLimit: "api" }, () => 1)
        .step("y", { rateLimit: "api" }, () => 2)`, make(), {}, `{ rateLimits: { api: { limit: 1, per: "1 second" } } }`)
      expect(result.status).toBe("succeeded")
      expect(calls).toHaveLength(2)
      // A second's window: the second body waits for the first's turn to pass (a wide margin below it for timers).
      expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(900)
    }, timeoutMs)

    it("interrupting the run interrupts the body it holds: the step ends cancelled", async () => {
      const controller = new AbortController()
      const { result, calls } = await runIn(tempDir(), "interrupt", `
        .step("slow", () => new Promise((resolve) => setTimeout(resolve, 60_000)))`, make(), {
        signal: controller.signal,
        onEvent: (e) => {
          if (e.type === "step:start") setTimeout(() => controller.abort(), 50)
        }
      })
      expect(calls.map((c) => c.id)).toEqual(["slow"])
      expect(result.status).toBe("cancelled")
      expect(result.steps.slow?.status).toBe("cancelled")
    }, timeoutMs)
  })
}
