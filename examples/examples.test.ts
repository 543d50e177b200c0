/**
 * Every example runs, and does what its comment claims. Claims about speed are
 * checked on the event trace (what overlapped), not on wall-clock time.
 */
import { mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import type { Event, EventOf } from "../runtime/Event.ts"
import { run } from "../runtime/Run.ts"
import ciPipeline from "./ci-pipeline.ts"
import dataFlow from "./data-flow.ts"
import docsSite from "./docs-site.ts"
import * as Plan from "../runtime/Plan.ts"
import { affected } from "../runtime/watch/affected.ts"
import release from "./release.ts"
import research, { realCalls, resetResearch } from "./research.ts"
import viewSwitch from "./view-switch.ts"

const trace = async (wf: Parameters<typeof run>[0]) => {
  const events: Array<Event> = []
  // A fresh cache for every run: memoized results persist between runs, which is the point, not here.
  const cache = { dir: mkdtempSync(path.join(tmpdir(), "weft-examples-")) }
  const result = await run(wf, { onEvent: (e) => events.push(e), cwd: import.meta.dirname, cache })
  const at = (type: "step:start" | "step:end", step: string) =>
    events.find((e) => e.type === type && e.step === step)!.time
  return { result, events, at }
}

describe("examples", () => {
  it("every example file is covered here", () => {
    const files = readdirSync(import.meta.dirname).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== "sleep.ts")
    expect(files.sort()).toEqual(["ci-pipeline.ts", "data-flow.ts", "docs-site.ts", "release.ts", "research.ts", "view-switch.ts"])
  })

  it("view-switch: the three fetches overlap, render waits for all of them", async () => {
    const { result, at } = await trace(viewSwitch)
    expect(result.status).toBe("succeeded")
    expect(result.outputs.render).toBe("dashboard for Ada (pro), 2 permissions, 3 new")
    const fetches = ["profile", "permissions", "notifications"]
    // All three started before the first one ended: they ran in parallel.
    expect(Math.max(...fetches.map((s) => at("step:start", s)))).toBeLessThan(Math.min(...fetches.map((s) => at("step:end", s))))
    expect(at("step:start", "render")).toBeGreaterThanOrEqual(Math.max(...fetches.map((s) => at("step:end", s))))
    expect(at("step:start", "profile")).toBeGreaterThanOrEqual(at("step:end", "route"))
    // ≈ the longest call (117 ms), not the sum (145 ms); generous for a loaded machine.
    expect(result.durationMs).toBeLessThan(145 + 100)
  })

  it("ci-pipeline: the independent checks run together, the tail runs in order", async () => {
    const { result, at, events } = await trace(ciPipeline)
    expect(result.status).toBe("succeeded")
    const checks = Object.keys(result.steps).filter((s) => s.startsWith("checks:"))
    expect(checks).toHaveLength(7)
    expect(Object.keys(result.steps)).toHaveLength(15)
    expect(Math.max(...checks.map((s) => at("step:start", s)))).toBeLessThan(Math.min(...checks.map((s) => at("step:end", s))))
    const tail = ["run-tests", "code-quality", "context", "git-operations", "markdown-lint"]
    tail.slice(1).forEach((s, i) => expect(at("step:start", s)).toBeGreaterThanOrEqual(at("step:end", tail[i]!)))
    expect(events).toContainEqual(expect.objectContaining({ type: "step:log", step: "checkout", text: expect.stringMatching(/^checked out v\d+/) }))
  })

  it("data-flow: typed outputs flow through a fan-out and a gather", async () => {
    const { result } = await trace(dataFlow)
    expect(result.outputs.report).toBe("portfolio value: $7303.20")
    expect(result.outputs.quote).toHaveLength(4)
  })

  it("release: commands, a retryable publish and an optional tweet", async () => {
    const { result, events } = await trace(release)
    expect(result.status).toBe("succeeded")
    expect(result.outputs.publish).toEqual({ url: "https://example.com/releases/Release%201.2.3" })
    expect(events).toContainEqual(expect.objectContaining({ type: "step:log", step: "tweet", text: "shipped: https://example.com/releases/Release%201.2.3" }))
  })

  it("research: three agents ask for 10 tool calls, memo makes 3", async () => {
    // Twice, to check the reset: the second run calls the tools again and reports the same.
    for (let i = 0; i < 2; i++) {
      resetResearch()
      const { result, at } = await trace(research)
      expect(result.status).toBe("succeeded")
      expect(realCalls()).toEqual({ get_company_profile: 1, get_company_financials: 1, get_analyst_ratings: 1 })
      const agents = ["company", "financials", "ratings"]
      expect(Math.max(...agents.map((s) => at("step:start", s)))).toBeLessThan(Math.min(...agents.map((s) => at("step:end", s))))
      expect(at("step:start", "report")).toBeGreaterThanOrEqual(Math.max(...agents.map((s) => at("step:end", s))))
      expect(result.outputs.report).toContain("# Acme Corp (ACME)")
      expect(result.outputs.report).toContain("tool calls: 10 requested, 3 made, hit rate 70%")
    }
  })

  it("research: the report streams its five sections as they are written; the output is all of them in order", async () => {
    resetResearch()
    const { result, events, at } = await trace(research)
    expect(result.status).toBe("succeeded")
    const parts = events.filter((e): e is EventOf<"step:partial"> => e.type === "step:partial" && e.step === "report")
    expect(parts.map((p) => p.index)).toEqual([0, 1, 2, 3, 4])
    // The first section shows long before the last: streamed, not held to the end.
    const start = at("step:start", "report")
    const first = parts[0]!.time - start
    const last = parts[4]!.time - start
    expect(last).toBeGreaterThan(0)
    expect(first).toBeLessThanOrEqual(0.3 * last)
    expect(parts[4]!.time).toBeLessThanOrEqual(at("step:end", "report"))
    const report = result.outputs.report as string
    expect(report).toBe(parts.map((p) => p.text).join("\n\n"))
    const headings = ["# Acme Corp (ACME)", "## Company", "## Financials", "## Analyst ratings", "## Method"]
    const positions = headings.map((h) => report.indexOf(h))
    expect(positions.every((p) => p >= 0)).toBe(true)
    expect(positions).toEqual([...positions].sort((a, b) => a - b))
    parts.forEach((part, i) => expect(part.text.startsWith(headings[i]!), part.text).toBe(true))
  })

  it("docs-site: renders every page, checks links, and an edit to one page affects only it and what is built from it", async () => {
    const { result } = await trace(docsSite)
    expect(result.status).toBe("succeeded")
    expect(result.outputs.index).toContain(`<a href="guide.html">Guide</a>`)
    expect(result.outputs.links).toBe(3)
    expect(result.outputs.api).toMatchObject({ title: "API", html: expect.stringContaining("<code>workflow(name)</code>") })
    // What `weft watch examples/docs-site.ts` reruns when guide.md is saved.
    const plan = Plan.make(docsSite)
    expect(affected(plan, import.meta.dirname, [path.join(import.meta.dirname, "docs-site/guide.md")]).sort()).toEqual(["guide", "index", "links"])
    expect(affected(plan, import.meta.dirname, [path.join(import.meta.dirname, "docs-site/notes.txt")])).toEqual([])
  })
})
