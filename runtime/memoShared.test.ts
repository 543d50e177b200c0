/**
 * Memoized calls shared by runs that overlap (issue 10, item 5): runs in one
 * process that use one store share the calls in flight, so ten research
 * sessions asking the same four tool calls make four real calls, whether
 * they start together or one after another while the first calls are out.
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { workflow } from "../dsl/Workflow.ts"
import { memo } from "./memo.ts"
import { run } from "./Run.ts"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Four memoized tools that count their real calls, and a research session that asks each for one ticker. */
const tools = () => {
  const calls: Record<string, number> = {}
  const tool = (name: string) =>
    memo(name, async (ticker: string) => {
      calls[name] = (calls[name] ?? 0) + 1
      await sleep(300)
      return `${name}:${ticker}`
    }, { ttl: "1 hour" })
  const asked = ["get_profile", "get_financials", "get_news", "get_price"].map(tool)
  const session = workflow("research").step("agent", async () => Promise.all(asked.map((ask) => ask("ACME"))))
  return { calls, session }
}

describe("memoized calls of overlapping runs in one process", () => {
  it("ten sessions started together make one real call per key", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "weft-memo-shared-"))
    const { calls, session } = tools()
    const results = await Promise.all(Array.from({ length: 10 }, () => run(session, { cwd: root })))
    expect(results.map((r) => r.status)).toEqual(Array(10).fill("succeeded"))
    expect(results.every((r) => (r.outputs as { agent: Array<string> }).agent[1] === "get_financials:ACME")).toBe(true)
    expect(calls).toEqual({ get_profile: 1, get_financials: 1, get_news: 1, get_price: 1 })
  })

  it("ten sessions started one after another, while the first calls are still out, make one real call per key", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "weft-memo-shared-"))
    const { calls, session } = tools()
    const results = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      await sleep(i * 20)
      return run(session, { cwd: root })
    }))
    expect(results.map((r) => r.status)).toEqual(Array(10).fill("succeeded"))
    expect(calls).toEqual({ get_profile: 1, get_financials: 1, get_news: 1, get_price: 1 })
  })
})
