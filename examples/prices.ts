/**
 * Batched calls: twelve steps (`.each` over twelve tickers) each ask for one
 * ticker's price, and the price API takes many tickers per request. With
 * `memo.batched`, the twelve asks made as the steps start together become ONE
 * request for all twelve tickers; each step gets its own price, and each price
 * is remembered on its own, so the `summary` step asking for one again is a hit.
 *
 *   npx weft run examples/prices.ts
 */
import { currentMemoScope, memo, workflow } from "weft"
import { sleep } from "./sleep.ts"

const quotes: Record<string, number> = {
  AAPL: 189.5, MSFT: 411.2, NVDA: 121.4, TSLA: 242.8, AMZN: 178.3, GOOG: 165.1,
  META: 498.6, NFLX: 631.9, AMD: 162.7, INTC: 31.2, ORCL: 125.4, IBM: 183.0
}
export const TICKERS = Object.keys(quotes)

const requests: Array<ReadonlyArray<string>> = []

/** The tickers of every real request made to the price API. */
export const priceRequests = (): ReadonlyArray<ReadonlyArray<string>> => [...requests]

/** Forgets the requests and the remembered prices, so a second run asks the API again. */
export const resetPrices = (): void => {
  requests.length = 0
  currentMemoScope().clear()
}

/** A simulated price API: one request of 50 ms answers up to 100 tickers. */
const getPrices = async (tickers: Array<string>): Promise<Array<number>> => {
  requests.push(tickers)
  await sleep(50)
  return tickers.map((ticker) => quotes[ticker]!)
}

const getPrice = memo.batched("get_prices", getPrices, { maxBatch: 100, ttl: "1 minute" })

export default workflow("prices", { concurrency: 12 })
  .each("price", TICKERS, (ticker) => async () => ({ ticker, price: await getPrice(ticker) }))
  .step("summary", { needs: ["price"] }, async ({ price }) => {
    const top = price.reduce((a, b) => (b.price > a.price ? b : a))
    // Already fetched by the batch: answered from memory, no request.
    const again = await getPrice(top.ticker)
    return `${price.length} prices, highest ${top.ticker} at $${again.toFixed(2)}`
  })
