/**
 * Typed data flow: each step receives its needs' outputs, typed, with no casts.
 * `.each` fans out over a list (one step per ticker, run in parallel) and
 * gathers their outputs as an array for the steps that need it.
 *
 *   npx weft run examples/data-flow.ts
 */
import { workflow } from "weft"
import { sleep } from "./sleep.ts"

const prices: Record<string, number> = { AAPL: 189.5, MSFT: 411.2, NVDA: 121.4, TSLA: 242.8 }

export default workflow("portfolio", { concurrency: 8 })
  .step("tickers", () => Object.keys(prices))
  .step("holdings", () => ({ AAPL: 10, MSFT: 4, NVDA: 25, TSLA: 3 }) as Record<string, number>)
  .each("quote", Object.keys(prices), (ticker) => async (_, ctx) => {
    await sleep(10, ctx.signal)
    return { ticker, price: prices[ticker]! }
  })
  .step("value", { needs: ["quote", "holdings"] }, ({ quote, holdings }) =>
    quote.reduce((sum, q) => sum + q.price * (holdings[q.ticker] ?? 0), 0))
  .step("report", { needs: ["value", "tickers"] }, ({ value, tickers }, ctx) => {
    ctx.log(`valued ${tickers.length} positions`)
    return `portfolio value: $${value.toFixed(2)}`
  })
