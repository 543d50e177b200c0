/**
 * A research workflow behind a rate-limited API: twelve parallel steps each
 * look up one topic in a paper-search API that takes two topics per request
 * and allows 3 requests per second (a fourth within the second is refused
 * with a 429). `memo.batched` turns the twelve lookups into six requests of
 * two topics; its `rateLimit` spaces those requests so the API refuses none:
 * three go at once, three a second later. Steps whose request waits show
 * `waiting: rate limit search (memo search_papers)`.
 *
 *   npx weft run examples/research-api.ts
 */
import { memo, workflow } from "weft"

export const TOPICS = [
  "sparse attention", "mixture of experts", "speculative decoding", "retrieval augmentation",
  "state space models", "quantization", "distillation", "tool use",
  "long context", "preference tuning", "scaling laws", "interpretability"
]

/** A 429 answer; `retryAfter` is its Retry-After header, in seconds. */
class TooManyRequests extends Error {
  readonly retryAfter = "1"
  constructor() {
    super("429 Too Many Requests")
  }
}

let requests: Array<{ readonly at: number; readonly topics: ReadonlyArray<string> }> = []
let refused = 0

/** The requests the API accepted since the last reset, with when they arrived. */
export const apiRequests = (): ReadonlyArray<{ readonly at: number; readonly topics: ReadonlyArray<string> }> => requests

/** How many requests the API refused since the last reset. */
export const refusals = (): number => refused

/** Forgets the API's requests, for another run. */
export const resetApi = (): void => {
  requests = []
  refused = 0
}

/**
 * How much later than its client an API sees a request: the network. weft
 * spaces the requests it sends; the API's own window allows this much slack,
 * as a real one must, or no client could keep to it exactly (on a loaded
 * machine one request can leave later than the next does).
 */
const NETWORK_MS = 100

/** The simulated API: at most 2 topics per request, 3 requests per second, 80 ms each. */
const searchApi = async (topics: ReadonlyArray<string>): Promise<Array<{ topic: string; title: string; citations: number }>> => {
  const now = Date.now()
  if (topics.length > 2) throw new Error(`400 Bad Request: at most 2 topics per request, got ${topics.length}`)
  if (requests.filter((r) => r.at > now - 1000 + NETWORK_MS).length >= 3) {
    refused++
    throw new TooManyRequests()
  }
  requests.push({ at: now, topics })
  await new Promise((resolve) => setTimeout(resolve, 80))
  return topics.map((topic) => ({ topic, title: `A survey of ${topic}`, citations: 40 + topic.length * 7 }))
}

/** One topic's best paper: lookups made together go out two topics per request, at most 3 requests a second. */
export const searchPapers = memo.batched("search_papers", searchApi, { maxBatch: 2, rateLimit: "search" })

export default workflow("research-api", { concurrency: 12, rateLimits: { search: { limit: 3, per: "1 second" } } })
  .each("find", TOPICS, (topic) => async (_: unknown, ctx) => {
    const paper = await searchPapers(topic)
    ctx.log(`${topic}: "${paper.title}" (${paper.citations} citations)`)
    return paper
  })
  .step("report", { needs: ["find"] }, ({ find }) => {
    const top = [...find].sort((a, b) => b.citations - a.citations)[0]!
    return `${find.length} topics, most cited: ${top.topic} (${top.citations})`
  })
