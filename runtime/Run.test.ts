import * as EffectConsole from "effect/Console"
import * as Effect from "effect/Effect"
import { createActor } from "xstate"
import { describe, expect, it, vi } from "vitest"
import { isDefinitionError } from "../dsl/DefinitionError.ts"
import { cmd, sh } from "../dsl/Command.ts"
import type { StepContext } from "../dsl/Step.ts"
import { workflow } from "../dsl/Workflow.ts"
import type { Event } from "./Event.ts"
import { compile } from "./Machine.ts"
import { groupAlive } from "./Process.ts"
import { run } from "./Run.ts"
import { runVirtual } from "../test/fixtures/virtual.ts"


const ends = (events: ReadonlyArray<Event>) =>
  Object.fromEntries(events.flatMap((e) => (e.type === "step:end" ? [[e.step, e.status]] : [])))

const sleep = (ms: number) => () => Effect.sleep(ms)
const failAfter = (ms: number, message = "boom") => () => Effect.andThen(Effect.sleep(ms), Effect.fail(new Error(message)))

describe("run", () => {
  it("passes outputs along needs and returns them", async () => {
    const wf = workflow("flow")
      .step("a", () => 2)
      .step("b", async () => 3)
      .step("c", { needs: ["a", "b"] }, ({ a, b }) => Effect.succeed(a * b))
    const result = await run(wf)
    expect(result.status).toBe("succeeded")
    expect(result.outputs).toEqual({ a: 2, b: 3, c: 6 })
    expect(result.steps.c).toMatchObject({ status: "succeeded", attempts: 1 })
  })

  it("builds the result's records once, on first read, as plain data", async () => {
    const wf = workflow("records")
      .step("a", () => 2)
      .step("b", { needs: ["a"] }, ({ a }) => {
        throw new Error(`no ${a}`)
      })
      .step("c", { needs: ["b"] }, () => 0)
    const result = await run(wf)
    // Read twice, the same object: what a caller adds to it stays.
    expect(result.outputs).toBe(result.outputs)
    expect(result.steps).toBe(result.steps)
    expect(JSON.parse(JSON.stringify(result))).toEqual({
      status: "failed",
      outputs: { a: 2 },
      steps: {
        a: { status: "succeeded", attempts: 1, durationMs: result.steps.a!.durationMs },
        b: { status: "failed", attempts: 1, durationMs: result.steps.b!.durationMs, error: "no 2" },
        c: { status: "skipped", attempts: 0, durationMs: result.steps.c!.durationMs }
      },
      durationMs: result.durationMs
    })
    expect({ ...result }.outputs).toEqual({ a: 2 })
  })

  it("gives a step its needs' outputs keyed by id, once each, whatever else it waits for", async () => {
    let seen: unknown
    const wf = workflow("inputs")
      .step("a", () => 1)
      .step("b", () => 2)
      .step("c", { needs: ["b", "a", "b"], after: ["a"] }, (inputs) => {
        seen = inputs
        return Object.keys(inputs)
      })
    const result = await run(wf)
    expect(seen).toEqual({ b: 2, a: 1 })
    expect(result.outputs.c).toEqual(["b", "a"])
  })

  it("runs independent steps in parallel: the makespan is the critical path", async () => {
    const wf = workflow("par", { concurrency: 4 })
      .step("a", sleep(117)).step("b", sleep(19)).step("c", sleep(9))
      .step("d", { after: ["a", "b", "c"] }, sleep(1))
    const { result } = await runVirtual(wf)
    expect(result.durationMs).toBe(118)
  })

  it("emits run:start first, run:end last, and a step's start before its logs before its end", async () => {
    const wf = workflow("order").step("a", (_, ctx) => {
      ctx.log("one")
      ctx.progress(1, 2, "half")
      return 1
    })
    const events: Array<Event> = []
    await run(wf, { onEvent: (e) => events.push(e) })
    expect(events.map((e) => e.type)).toEqual(["run:start", "step:ready", "step:start", "step:log", "step:progress", "step:end", "run:end"])
    expect(events[4]).toMatchObject({ done: 1, total: 2, message: "half" })
  })

  it("fail-fast: interrupts running steps (finalizers run, signals abort), starts nothing new, fails the run", async () => {
    let aborted = false
    let finalized = false
    const wf = workflow("ff", { concurrency: 2 })
      .step("slow", (_, ctx) => {
        ctx.signal.addEventListener("abort", () => (aborted = true))
        return Effect.sleep(1000).pipe(Effect.ensuring(Effect.sync(() => (finalized = true))))
      })
      .step("bad", failAfter(10))
      .step("later", sleep(1))
      .step("dependent", { after: ["bad"] }, sleep(1))
    const { result, events } = await runVirtual(wf)
    expect(result.status).toBe("failed")
    expect(ends(events)).toEqual({ slow: "cancelled", bad: "failed", later: "cancelled", dependent: "skipped" })
    expect(result.steps.bad!.error).toBe("boom")
    expect(finalized).toBe(true)
    expect(events.filter((e) => e.type === "step:start").map((e) => (e as { step: string }).step).sort()).toEqual(["bad", "slow"])
    expect(result.durationMs).toBe(10)
    expect(aborted).toBe(true)
  })

  it("aborts ctx.signal of a promise step when it is interrupted", async () => {
    let reason: unknown
    const wf = workflow("abort", { concurrency: 2 })
      .step("waits", (_, ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve((reason = ctx.signal.reason)))))
      .step("fails", async () => {
        await new Promise((r) => setTimeout(r, 10))
        throw new Error("nope")
      })
    const result = await run(wf)
    expect(result.steps.waits!.status).toBe("cancelled")
    expect(String(reason)).toContain(`step "waits" was interrupted`)
  })

  it("gives a step that reads ctx.signal only after it was interrupted an aborted signal, the same on every read", async () => {
    const seen: Array<StepContext> = []
    const wf = workflow("late", { concurrency: 2 })
      .step("waits", (_, ctx) => {
        seen.push(ctx)
        return new Promise(() => {})
      })
      .step("fails", async () => {
        await new Promise((r) => setTimeout(r, 10))
        throw new Error("nope")
      })
    const result = await run(wf)
    expect(result.steps.waits!.status).toBe("cancelled")
    const [ctx] = seen
    expect(ctx!.signal.aborted).toBe(true)
    expect(String(ctx!.signal.reason)).toContain(`step "waits" was interrupted`)
    expect(ctx!.signal).toBe(ctx!.signal)
  })

  it("--continue keeps independent branches running and skips the failed step's dependents", async () => {
    const wf = workflow("cont", { concurrency: 1 })
      .step("bad", failAfter(1))
      .step("child", { after: ["bad"] }, sleep(1))
      .step("grandchild", { after: ["child"] }, sleep(1))
      .step("other", sleep(5))
      .step("otherChild", { after: ["other"] }, sleep(5))
    const { result, events } = await runVirtual(wf, { failFast: false })
    expect(result.status).toBe("failed")
    expect(ends(events)).toEqual({ bad: "failed", child: "skipped", grandchild: "skipped", other: "succeeded", otherChild: "succeeded" })
  })

  it("an optional step's failure does not fail the run; dependents get undefined", async () => {
    let seen: unknown = "not called"
    const wf = workflow("opt")
      .step("tweet", { optional: true }, (): number => {
        throw new Error("rate limited")
      })
      .step("after", { needs: ["tweet"] }, ({ tweet }) => {
        seen = tweet
        return "ok"
      })
    const result = await run(wf)
    expect(result.status).toBe("succeeded")
    expect(result.steps.tweet).toMatchObject({ status: "failed", error: "rate limited" })
    expect(seen).toBeUndefined()
  })

  it("retries with exponential backoff, capped, and reports each retry", async () => {
    const wf = workflow("retry").step("flaky", { retry: { times: 3, delay: 100, factor: 3, maxDelay: 500 } }, (_, ctx) =>
      ctx.attempt < 4 ? Effect.fail(new Error(`attempt ${ctx.attempt}`)) : Effect.succeed(ctx.attempt))
    const { result, events } = await runVirtual(wf)
    expect(result.outputs.flaky).toBe(4)
    expect(result.steps.flaky!.attempts).toBe(4)
    const retries = events.filter((e) => e.type === "step:retry")
    expect(retries.map((e) => [e.attempt, e.delayMs, e.error])).toEqual([[1, 100, "attempt 1"], [2, 300, "attempt 2"], [3, 500, "attempt 3"]])
    expect(events.filter((e) => e.type === "step:start").map((e) => [e.time, e.attempt])).toEqual([[0, 1], [100, 2], [400, 3], [900, 4]])
    expect(result.durationMs).toBe(900)
  })

  it("fails a step after its retries run out, with the last error", async () => {
    const wf = workflow("retry").step("always", { retry: 2 }, (_, ctx) => Effect.fail(new Error(`no ${ctx.attempt}`)))
    const { result } = await runVirtual(wf)
    expect(result.steps.always).toMatchObject({ status: "failed", attempts: 3, error: "no 3" })
  })

  it("times out an attempt after `timeout`", async () => {
    const wf = workflow("slow").step("hang", { timeout: "2 seconds" }, sleep(60_000))
    const { result } = await runVirtual(wf)
    expect(result.steps.hang).toMatchObject({ status: "failed", error: "timed out after 2 s" })
    expect(result.durationMs).toBe(2000)
  })

  it("cancels through an AbortSignal: running steps end cancelled, the run cancelled", async () => {
    const controller = new AbortController()
    const wf = workflow("cancel", { concurrency: 1 })
      .step("long", (_, ctx) => new Promise((resolve, reject) => {
        setTimeout(() => controller.abort(), 5)
        ctx.signal.addEventListener("abort", () => reject(new Error("aborted")))
      }))
      .step("never", () => 1)
    const result = await run(wf, { signal: controller.signal })
    expect(result.status).toBe("cancelled")
    expect(result.steps.long!.status).toBe("cancelled")
    expect(result.steps.never!.status).toBe("cancelled")
  })

  it("captures console.log in function steps as that step's log, even across awaits in parallel steps", async () => {
    const real = vi.spyOn(process.stdout, "write")
    const wf = workflow("logs", { concurrency: 2 })
      .step("a", async () => {
        console.log("a1")
        await new Promise((r) => setTimeout(r, 5))
        console.error("a2", { n: 1 })
      })
      .step("b", async () => {
        await new Promise((r) => setTimeout(r, 2))
        console.log("b1")
      })
    const events: Array<Event> = []
    await run(wf, { onEvent: (e) => events.push(e) })
    const logs = events.flatMap((e) => (e.type === "step:log" ? [`${e.step}/${e.stream}: ${e.text}`] : []))
    expect(logs).toEqual(["a/stdout: a1", "b/stdout: b1", "a/stderr: a2 { n: 1 }"])
    expect(real.mock.calls.some(([text]) => String(text).includes("a1"))).toBe(false)
    real.mockRestore()
    expect(console.log).not.toHaveProperty("__weft")
  })

  it("captures Effect's Console and Effect.log inside an Effect step", async () => {
    const wf = workflow("effect-logs").step("e", () =>
      Effect.gen(function*() {
        yield* EffectConsole.log("from Console")
        yield* Effect.sleep(1)
        yield* Effect.logInfo("from the logger")
        return 1
      }))
    const events: Array<Event> = []
    await run(wf, { onEvent: (e) => events.push(e) })
    const logs = events.flatMap((e) => (e.type === "step:log" ? [e.text] : []))
    expect(logs[0]).toBe("from Console")
    expect(logs.some((text) => text.includes("from the logger"))).toBe(true)
  })

  it("runs commands: stdout becomes the output and the log; a non-zero exit fails with the code and stderr", async () => {
    const wf = workflow("cmds", { failFast: false })
      .step("hello", sh`echo ${"hello world"}`)
      .step("broken", cmd([process.execPath, "-e", "console.error('bad input'); process.exit(3)"]))
    const events: Array<Event> = []
    const result = await run(wf, { onEvent: (e) => events.push(e) })
    expect(result.outputs.hello).toEqual({ exitCode: 0, stdout: "hello world\n", stdoutTruncated: false })
    expect(events).toContainEqual(expect.objectContaining({ type: "step:log", step: "hello", stream: "stdout", text: "hello world" }))
    expect(result.steps.broken!.error).toContain("exited with code 3")
    expect(result.steps.broken!.error).toContain("bad input")
  })

  it("runs a command a function step builds from its inputs", async () => {
    const wf = workflow("dyn")
      .step("version", () => "1.2.3")
      .step("tag", { needs: ["version"] }, ({ version }) => sh`echo tagging ${version}`)
      .step("use", { needs: ["tag"] }, ({ tag }) => tag.stdout.trim())
    const result = await run(wf)
    expect(result.outputs.use).toBe("tagging 1.2.3")
  })

  it("kills a running command's process group when fail-fast interrupts it", async () => {
    const script = "console.log(process.pid); setTimeout(() => {}, 30000)"
    let pid = 0
    const wf = workflow("kill", { concurrency: 2 })
      .step("server", cmd([process.execPath, "-e", script]))
      .step("bad", async () => {
        while (pid === 0) await new Promise((r) => setTimeout(r, 5))
        throw new Error("stop")
      })
    const result = await run(wf, {
      onEvent: (e) => {
        if (e.type === "step:log" && e.step === "server") pid = Number(e.text)
      }
    })
    expect(result.steps.server!.status).toBe("cancelled")
    expect(pid).toBeGreaterThan(0)
    expect(groupAlive(pid)).toBe(false)
  })

  it("runs another workflow as a step; its outputs become the step's output", async () => {
    const inner = workflow("inner").step("x", () => 1).step("y", { needs: ["x"] }, ({ x }) => x + 1)
    const wf = workflow("outer").step("sub", inner).step("use", { needs: ["sub"] }, ({ sub }) => sub.y * 10)
    const result = await run(wf)
    expect(result.outputs.use).toBe(20)
    const failing = workflow("outer2").step("sub", workflow("inner2").step("z", (): number => {
      throw new Error("deep")
    }))
    const failed = await run(failing)
    expect(failed.steps.sub!.error).toBe(`sub-workflow failed at "z" (deep)`)
  })

  it("runs only the named steps and their dependencies", async () => {
    const wf = workflow("only").step("a", () => 1).step("b", { needs: ["a"] }, () => 2).step("c", () => 3)
    const result = await run(wf, { only: ["b"] })
    expect(Object.keys(result.steps)).toEqual(["a", "b"])
  })

  it("rejects a bad workflow with a DefinitionError before anything runs", async () => {
    let ran = false
    const bad = workflow("bad").step("a", () => (ran = true))
    const error = await run(bad, { only: ["zzz"] }).catch((e) => e)
    expect(isDefinitionError(error)).toBe(true)
    expect(ran).toBe(false)
  })

  it("handles an empty workflow", async () => {
    const result = await run(workflow("empty"))
    expect(result).toMatchObject({ status: "succeeded", outputs: {}, steps: {} })
  })
})

describe("compile", () => {
  it("returns an XState machine whose actor runs the workflow and exposes every step's status", async () => {
    const wf = workflow("xs", { concurrency: 1 })
      .step("a", async () => {
        await new Promise((r) => setTimeout(r, 5))
        return 1
      })
      .step("b", { needs: ["a"] }, ({ a }) => a + 1)
    const actor = createActor(compile(wf))
    const seen: Array<string> = []
    actor.subscribe((snapshot) => seen.push(`${snapshot.context.run.statusOf("a")}/${snapshot.context.run.statusOf("b")}`))
    const types: Array<string> = []
    actor.on("*", (event) => types.push(event.type))
    actor.start()
    expect(actor.getSnapshot().context.run.statusOf("b")).toBe("pending")
    await new Promise<void>((resolve) => actor.subscribe({ complete: resolve }))
    const snapshot = actor.getSnapshot()
    expect(snapshot.status).toBe("done")
    expect(snapshot.output).toMatchObject({ status: "succeeded", outputs: { a: 1, b: 2 } })
    expect(snapshot.context.run.steps).toMatchObject({ a: { status: "succeeded" }, b: { status: "succeeded" } })
    expect(seen).toContain("running/pending")
    expect(seen.at(-1)).toBe("succeeded/succeeded")
    expect(types[0]).toBe("run:start")
    expect(types.at(-1)).toBe("run:end")
  })
})
