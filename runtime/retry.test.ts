/**
 * Retry defaults (issue 12, item 6): `retry: n` backs off exponentially
 * without being told how, the retry event names the error in one short line,
 * and the whole reason goes to the step's log file.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import { afterAll, describe, expect, it } from "vitest"
import { cmd } from "../dsl/Command.ts"
import { workflow } from "../dsl/Workflow.ts"
import { runVirtual } from "../test/fixtures/virtual.ts"
import type { EventOf } from "./Event.ts"
import { defaultRetry } from "../dsl/retryOptions.ts"
import { logFiles } from "./logs/LogFiles.ts"
import { run } from "./Run.ts"

const dirs: Array<string> = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

describe("retry defaults", () => {
  it("retry: n waits 1 s, then twice as long each time, at most 30 s", async () => {
    const wf = workflow("w").step("always", { retry: 7 }, (_, ctx) => Effect.fail(new Error(`no ${ctx.attempt}`)))
    const { result, events } = await runVirtual(wf)
    expect(result.steps.always).toMatchObject({ status: "failed", attempts: 8 })
    const delays = events.filter((e): e is EventOf<"step:retry"> => e.type === "step:retry").map((e) => e.delayMs)
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000])
    expect(events.filter((e) => e.type === "step:start").map((e) => e.time)).toEqual([0, 1000, 3000, 7000, 15000, 31000, 61000, 91000])
    expect(defaultRetry).toEqual({ delayMs: 1000, factor: 2, maxDelayMs: 30_000 })
  })

  it("{ times } alone takes the same defaults; a delay longer than the cap is not cut short", async () => {
    const attempts = (retry: unknown) =>
      runVirtual(workflow("w").step("s", { retry: retry as never }, () => Effect.fail(new Error("no")))).then(({ events }) =>
        events.filter((e): e is EventOf<"step:retry"> => e.type === "step:retry").map((e) => e.delayMs))
    expect(await attempts({ times: 2 })).toEqual([1000, 2000])
    expect(await attempts({ times: 2, delay: 0 })).toEqual([0, 0])
    expect(await attempts({ times: 2, delay: "1 minute" })).toEqual([60_000, 60_000])
  })

  it("the retry event names a failed command's exit and last stderr line, not its script; the log file has the whole reason", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "weft-retry-"))
    dirs.push(dir)
    const logs = path.join(dir, "logs")
    const padding = Array.from({ length: 20 }, (_, i) => `echo line ${i} > /dev/null`).join("; ")
    const wf = workflow("w").step("flaky", { retry: { times: 1, delay: 0 } }, cmd(["sh", "-c", `${padding}; echo "first problem" >&2; echo "connection refused" >&2; exit 3`]))
    const events: Array<EventOf<"step:retry">> = []
    const result = await run(wf, {
      reporter: logFiles({ dir: logs }),
      onEvent: (e) => e.type === "step:retry" && events.push(e),
      runId: "r1",
      cacheDir: path.join(dir, "cache")
    })
    expect(result.status).toBe("failed")
    expect(events).toHaveLength(1)
    const retry = events[0]!
    expect(retry.error).toBe("exited with code 3: connection refused")
    expect(retry.error).not.toContain("echo line")
    expect(retry.reason).toContain("echo line 19")
    expect(retry.reason).toContain("first problem")
    const log = readFileSync(path.join(logs, "r1", "flaky.log"), "utf8")
    expect(log).toMatch(/retry +attempt 1 failed, retrying in 0 ms: command ".*echo line 19.*" exited with code 3:/)
    expect(log).toContain("first problem")
  })

  it("a long error message is shown by its first line, cut short", async () => {
    const long = `${"x".repeat(300)}\nsecond line`
    const wf = workflow("w").step("s", { retry: { times: 1, delay: 0 } }, () => Effect.fail(new Error(long)))
    const { events } = await runVirtual(wf)
    const retry = events.find((e): e is EventOf<"step:retry"> => e.type === "step:retry")!
    expect(retry.error).toBe(`${"x".repeat(119)}…`)
    expect(retry.reason).toBe(long)
  })
})

describe("retry messages and secrets", () => {
  it("a secret at the cut is masked before the line is shortened, so no part of it shows", async () => {
    process.env.WEFT_RETRY_SECRET = "s3cr3t-value-for-the-cut"
    try {
      const { secret } = await import("../dsl/Permissions.ts")
      // The secret straddles the 119th character, where a long line is cut.
      const text = `${"x".repeat(110)}${process.env.WEFT_RETRY_SECRET} and more`
      const wf = workflow("w", { permissions: { env: [secret("WEFT_RETRY_SECRET")] } })
        .step("s", { retry: { times: 1, delay: 0 } }, () => Effect.fail(new Error(text)))
      const { events } = await runVirtual(wf)
      const retry = events.find((e): e is EventOf<"step:retry"> => e.type === "step:retry")!
      expect(retry.error).toBe(`${"x".repeat(110)}*** and m…`)
      expect(JSON.stringify(events)).not.toContain("s3cr3t")
    } finally {
      delete process.env.WEFT_RETRY_SECRET
    }
  })
})

describe("what is retried", () => {
  it("a failure is; a defect (a bug, Effect.die) and an interruption are not: the step ends at once", async () => {
    let died = 0
    let interrupted = 0
    const wf = workflow("w")
      .step("defect", { retry: { times: 3, delay: 0 } }, () => Effect.suspend(() => (died++, Effect.die(new Error("a bug")))))
      .step("interrupt", { retry: { times: 3, delay: 0 } }, () => Effect.suspend(() => (interrupted++, Effect.interrupt)))
      .step("custom", { retry: { times: 2, delay: 500, factor: 3, maxDelay: 1000 } }, () => Effect.fail(new Error("no")))
    const { result, events } = await runVirtual(wf, { failFast: false })
    expect(result.steps.defect).toMatchObject({ status: "failed", attempts: 1 })
    expect(result.steps.interrupt).toMatchObject({ status: "cancelled", attempts: 1 })
    expect([died, interrupted]).toEqual([1, 1])
    // 500 ms, then 1,500 capped at maxDelay.
    expect(events.filter((e): e is EventOf<"step:retry"> => e.type === "step:retry").map((e) => [e.step, e.delayMs])).toEqual([["custom", 500], ["custom", 1000]])
  })
})
