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
import { runVirtual } from "../test/fixtures/virtual.ts"
import ciPipeline from "./ci-pipeline.ts"
import dataFlow from "./data-flow.ts"
import deploy from "./deploy.ts"
import docsSite from "./docs-site.ts"
import * as Plan from "../runtime/Plan.ts"
import { affected } from "../runtime/watch/affected.ts"
import prices, { priceRequests, resetPrices, TICKERS } from "./prices.ts"
import rateLimited, { PHRASES, refusals, resetApi, translations } from "./rate-limited.ts"
import integrationTests from "./integration-tests.ts"
import release from "./release.ts"
import research, { realCalls, resetResearch } from "./research.ts"
import researchApi, { apiRequests, refusals as searchRefusals, resetApi as resetSearchApi, TOPICS } from "./research-api.ts"
import { plain } from "../runtime/reporters/plain.ts"
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
  it("integration-tests: one suite at a time holds the database, the GPU suites hold both at once, the rest runs beside them", async () => {
    const { result, events } = await runVirtual(integrationTests)
    expect(result.status).toBe("succeeded")
    const held = { db: 0, gpu: 0 }
    const demand = (step: string) => ({ db: step.startsWith("integration:") || step.startsWith("gpu-integration:") ? 1 : 0, gpu: step.startsWith("gpu-") ? 1 : 0 })
    let unitOverlapsDb = false
    for (const e of events) {
      if (e.type !== "step:start" && e.type !== "step:end") continue
      const d = demand(e.step)
      const sign = e.type === "step:start" ? 1 : -1
      held.db += sign * d.db
      held.gpu += sign * d.gpu
      expect(held.db).toBeLessThanOrEqual(1)
      expect(held.gpu).toBeLessThanOrEqual(1)
      if (e.step === "unit" && e.type === "step:end" && held.db === 1) unitOverlapsDb = true
    }
    expect(unitOverlapsDb).toBe(true)
    // The 2 s build, then the six suites one after another on the database: 3+2+1+2 s, and 2+2 s for the GPU ones.
    expect(result.durationMs).toBe(2000 + 8000 + 4000)
  })

  it("every example file is covered here", () => {
    const files = readdirSync(import.meta.dirname).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== "sleep.ts")
    expect(files.sort()).toEqual(["ci-pipeline.ts", "data-flow.ts", "deploy.ts", "docs-site.ts", "integration-tests.ts", "prices.ts", "rate-limited.ts", "release.ts", "research-api.ts", "research.ts", "view-switch.ts"])
  })

  it("deploy: each step sees only what it declares; the token shows as ***", async () => {
    Object.assign(process.env, { DEPLOY_TARGET: "production", DEPLOY_TOKEN: "tok-example-123456" })
    try {
      const { result, events } = await trace(deploy)
      expect(result.status).toBe("succeeded")
      expect(result.outputs.target).toBe("production")
      const text = JSON.stringify(events)
      expect(text).toContain("uploading to production with token *** []")
      expect(text).not.toContain("tok-example-123456")
    } finally {
      delete process.env.DEPLOY_TARGET
      delete process.env.DEPLOY_TOKEN
    }
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

  it("prices: twelve steps each ask for one price, memo.batched makes one request with all twelve tickers", async () => {
    // Twice, to check the reset: the second run asks the API again, once.
    for (let i = 0; i < 2; i++) {
      resetPrices()
      const { result, events } = await trace(prices)
      expect(result.status).toBe("succeeded")
      expect(priceRequests()).toHaveLength(1)
      expect([...priceRequests()[0]!].sort()).toEqual([...TICKERS].sort())
      // Each step got its own ticker's price, in the order of the tickers.
      const quotes = result.outputs.price as Array<{ ticker: string; price: number }>
      expect(quotes.map((q) => q.ticker)).toEqual(TICKERS)
      expect(quotes[0]).toEqual({ ticker: "AAPL", price: 189.5 })
      expect(quotes[11]).toEqual({ ticker: "IBM", price: 183.0 })
      for (const ticker of TICKERS) {
        const step = `price:${ticker}`
        // Each ticker's miss is told to the step that asked for it.
        expect(events.filter((e) => e.type === "step:memo" && e.step === step)).toEqual([expect.objectContaining({ name: "get_prices", outcome: "miss" })])
      }
      expect(result.outputs.summary).toBe("12 prices, highest NFLX at $631.90")
      expect(events.filter((e) => e.type === "step:memo" && e.step === "summary")).toEqual([expect.objectContaining({ outcome: "hit" })])
    }
  })

  it("rate-limited: twelve calls go three per second and the API refuses none; without the limit, retries wait what the 429 says", async () => {
    // On virtual time: the API's window and weft's are read from the same clock.
    resetApi()
    const limited = await runVirtual(rateLimited)
    expect(limited.result.status).toBe("succeeded")
    expect(refusals()).toBe(0)
    const starts = limited.events.flatMap((e) => (e.type === "step:start" && e.step.startsWith("translate:") ? [e.time] : []))
    expect(starts).toEqual([0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000, 3000, 3000, 3000])
    expect(limited.result.outputs.translate).toEqual(PHRASES.map((p) => `${p} → [fr] ${p}`))
    expect(limited.events.filter((e) => e.type === "step:waiting")).toHaveLength(9)
    expect(limited.result.durationMs).toBe(3050)

    resetApi()
    const unlimited = await runVirtual(translations(false))
    expect(unlimited.result.status).toBe("succeeded")
    expect(refusals()).toBe(9 + 6 + 3)
    const retries = unlimited.events.filter((e): e is EventOf<"step:retry"> => e.type === "step:retry")
    // Each retry waited the second the 429 asked for (the step asks for no backoff of its own: delay 0).
    expect(retries.map((e) => e.delayMs)).toEqual(retries.map(() => 1000))
    expect(unlimited.result.durationMs).toBe(3050)
  })

  it("research-api: twelve lookups become six batched requests, three a second, and the API refuses none", async () => {
    resetSearchApi()
    const { result, events } = await trace(researchApi)
    expect(result.status).toBe("succeeded")
    expect(searchRefusals()).toBe(0)
    const requests = apiRequests()
    expect(requests).toHaveLength(6)
    expect(requests.every((r) => r.topics.length === 2)).toBe(true)
    expect(requests.flatMap((r) => r.topics).sort()).toEqual([...TOPICS].sort())
    // Three at once, three once the second has passed (less the network's slack): the limit held, and it was needed.
    const times = requests.map((r) => r.at - requests[0]!.at)
    expect(times.filter((t) => t < 500)).toHaveLength(3)
    expect(times.filter((t) => t >= 900)).toHaveLength(3)
    // The steps whose request waited said so, and said when the wait was over.
    const waits = events.filter((e): e is EventOf<"step:waiting"> => e.type === "step:waiting")
    expect(new Set(waits.map((e) => e.reason))).toEqual(new Set(["rate limit search (memo search_papers)"]))
    expect(waits.filter((e) => e.over !== true)).toHaveLength(6)
    expect(waits.filter((e) => e.over === true).map((e) => e.step).sort()).toEqual(waits.filter((e) => e.over !== true).map((e) => e.step).sort())
    expect(result.outputs.report).toBe("12 topics, most cited: retrieval augmentation (194)")
    // The summary counts requests made, not keys.
    let text = ""
    const reporter = plain({ write: (t) => void (text += t) })
    for (const event of events) reporter.onEvent(event)
    expect(text).toMatch(/find:\S+ +│ waiting: rate limit search \(memo search_papers\)\n/)
    expect(text).toContain("memo search_papers: 12 calls, 6 made (for 12 keys), 0 hits, 0 coalesced")
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
