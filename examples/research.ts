/**
 * Research on a company by three agents working in parallel, then a report.
 * Each agent gathers the context it needs through the same three tools, so
 * between them they ask for 10 tool calls (the company profile 4×, its
 * financials 3×, its analyst ratings 3×). The tools are memoized: concurrent
 * identical calls join the one in flight and later ones reuse its result, so
 * only 3 real calls are made, and every step of the run shares them. The
 * report streams: each of its five sections shows as soon as it is written.
 *
 *   npx weft run examples/research.ts
 */
import { currentMemoScope, memo, workflow } from "weft"
import { sleep } from "./sleep.ts"

const TICKER = "ACME"

const real = { get_company_profile: 0, get_company_financials: 0, get_analyst_ratings: 0 }
type Tool = keyof typeof real

/** Real calls made to each tool (what memo could not avoid). */
export const realCalls = (): Readonly<Record<Tool, number>> => ({ ...real })

/** Starts the count again and forgets remembered results, so a second run calls the tools again. */
export const resetResearch = (): void => {
  for (const tool of Object.keys(real) as Array<Tool>) real[tool] = 0
  currentMemoScope().clear()
}

/** A simulated remote tool: `ms` of latency, cut short if the caller's signal aborts. */
const tool = <R>(name: Tool, ms: number, answer: (ticker: string) => R) =>
  memo(name, async (ticker: string, signal?: AbortSignal) => {
    real[name]++
    await sleep(ms, signal)
    return answer(ticker)
  }, {
    ttl: "10 minutes",
    // The signal does not change the answer: left out, identical calls from different steps share one.
    key: (ticker) => ticker
  })

const getCompanyProfile = tool("get_company_profile", 40, (ticker) => ({ ticker, name: "Acme Corp", sector: "Industrials" }))
const getCompanyFinancials = tool("get_company_financials", 60, () => ({ revenue: 12.4e9, netIncome: 1.1e9, revenueGrowth: 0.08 }))
const getAnalystRatings = tool("get_analyst_ratings", 30, () => ({ buy: 14, hold: 6, sell: 2, targetPrice: 182 }))

const percent = (x: number) => `${Math.round(x * 100)}%`

export default workflow("research", { concurrency: 4 })
  .step("company", async (_, { signal }) => {
    const profile = await getCompanyProfile(TICKER, signal)
    const [financials, ratings] = await Promise.all([getCompanyFinancials(TICKER, signal), getAnalystRatings(TICKER, signal)])
    const margin = financials.netIncome / financials.revenue
    return `${profile.name} (${profile.sector}): ${percent(margin)} net margin, ${ratings.buy} buy ratings`
  })
  .step("financials", async (_, { signal }) => {
    const financials = await getCompanyFinancials(TICKER, signal)
    const profile = await getCompanyProfile(TICKER, signal)
    const ratings = await getAnalystRatings(TICKER, signal)
    return `${profile.name} grows revenue ${percent(financials.revenueGrowth)}; analysts target $${ratings.targetPrice}`
  })
  .step("ratings", async (_, { signal }) => {
    const ratings = await getAnalystRatings(TICKER, signal)
    const [profile, financials] = await Promise.all([getCompanyProfile(TICKER, signal), getCompanyFinancials(TICKER, signal)])
    const total = ratings.buy + ratings.hold + ratings.sell
    return `${percent(ratings.buy / total)} of analysts rate ${profile.ticker} a buy at $${(financials.revenue / 1e9).toFixed(1)}B revenue`
  })
  // Writes the report section by section, streaming each one (`ctx.emit`) as
  // soon as it is written: a reader sees the first section long before the last.
  // The step's output is the whole report.
  .step("report", { needs: ["company", "financials", "ratings"] }, async ({ company, financials, ratings }, { signal, emit }) => {
    const profile = await getCompanyProfile(TICKER, signal)
    const all = currentMemoScope().stats()
    const stats = (Object.keys(real) as Array<Tool>).flatMap((name) => all[name] ?? [])
    const calls = stats.reduce((n, s) => n + s.calls, 0)
    const reused = stats.reduce((n, s) => n + s.hits + s.coalesced, 0)
    const made = stats.reduce((n, s) => n + s.misses, 0)
    // Each section and how long drafting it takes (a model call, in real life): the title is quick.
    const outline: Array<readonly [string, number]> = [
      [`# ${profile.name} (${profile.ticker})\n${profile.sector}, researched by three agents`, 10],
      [`## Company\n${company}`, 50],
      [`## Financials\n${financials}`, 50],
      [`## Analyst ratings\n${ratings}`, 50],
      [`## Method\ntool calls: ${calls} requested, ${made} made, hit rate ${percent(calls === 0 ? 0 : reused / calls)}`, 50]
    ]
    const sections: Array<string> = []
    for (const [section, draftingMs] of outline) {
      await sleep(draftingMs, signal)
      sections.push(section)
      emit(section)
    }
    return sections.join("\n\n")
  })
