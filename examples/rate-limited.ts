/**
 * Rate limits: twelve parallel calls to an API that allows 3 requests per
 * second and answers any more with a 429 saying when to come back. With
 * `rateLimits` the calls go three per second and the API never refuses one:
 * the twelve take four seconds, not twelve. Without it (`translations(false)`)
 * nine of the first twelve are refused, and their retries wait what the 429
 * says (`retryAfter`) instead of hammering the API.
 *
 *   npx weft run examples/rate-limited.ts
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { workflow } from "weft"

export const PHRASES = ["hello", "thank you", "goodbye", "please", "sorry", "cheers", "welcome", "good night", "see you", "well done", "bon appétit", "good luck"]

/** An error like a 429 answer: `retryAfter` is its Retry-After header, in seconds. */
class TooManyRequests extends Error {
  readonly retryAfter: string
  constructor(retryAfter: string) {
    super(`429 Too Many Requests (retry after ${retryAfter} s)`)
    this.retryAfter = retryAfter
  }
}

let accepted: Array<number> = []
let refused = 0

/** How many requests the API refused since the last reset. */
export const refusals = (): number => refused

/** Forgets the API's requests, for another run. */
export const resetApi = (): void => {
  accepted = []
  refused = 0
}

/**
 * How much later than its client an API sees a request: the network. weft
 * spaces the starts of steps, and the request goes out a moment after; a real
 * API's limit has the same slack, or no client could keep to it exactly.
 */
const NETWORK_MS = 10

/** A simulated translation API: 3 requests per second, 50 ms each. */
const translate = (phrase: string) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const recent = accepted.filter((t) => t > now - 1000 + NETWORK_MS)
    if (recent.length >= 3) {
      refused++
      return yield* Effect.fail(new TooManyRequests(String(Math.ceil((recent[0]! + 1000 - NETWORK_MS - now) / 1000))))
    }
    accepted.push(now)
    yield* Effect.sleep(50)
    return `${phrase} → [fr] ${phrase}`
  })

/** Twelve parallel calls, rate limited by weft or only by the API's refusals. */
export const translations = (rateLimited: boolean) =>
  workflow("translations", { concurrency: 12, ...(rateLimited ? { rateLimits: { translate: { limit: 3, per: "1 second" } } } : {}) })
    .each("translate", PHRASES, { retry: { times: 3, delay: 0 }, ...(rateLimited ? { rateLimit: "translate" } : {}) }, (phrase) => () => translate(phrase))

export default translations(true)
