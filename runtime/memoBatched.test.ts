import { afterEach, describe, expect, it, vi } from "vitest"
import { makeMemoryStore } from "./cache/MemoryStore.ts"
import { batched, makeMemoScope, memo, withMemoScope, withMemoStep, type BatchedOptions, type MemoEvent } from "./memo.ts"

/** A clock the test moves; a call "takes" `ms` by advancing it. */
const fakeClock = (start = 1_000_000) => {
  let t = start
  return { now: () => t, advance: (ms: number) => void (t += ms) }
}

/** A deferred, so a test decides when the real call finishes. */
const deferred = <A>() => {
  let resolve!: (a: A) => void
  const promise = new Promise<A>((res) => {
    resolve = res
  })
  return { promise, resolve }
}

/** A batched price lookup that records every real call's keys. */
const prices = (options: BatchedOptions<string> = {}, name = "get_prices") => {
  const sent: Array<Array<string>> = []
  const getPrice = memo.batched(name, async (tickers: Array<string>) => {
    sent.push(tickers)
    return tickers.map((t) => t.length * 100)
  }, options)
  return { getPrice, sent }
}

/** Runs each `[step, f]` as that step, all in `scope`, concurrently. */
const steps = <A>(scope: ReturnType<typeof makeMemoScope>, calls: ReadonlyArray<readonly [string, () => Promise<A>]>) =>
  withMemoScope(scope, () => Promise.all(calls.map(([step, f]) => withMemoStep(step, f))))

afterEach(() => {
  vi.useRealTimers()
})

describe("memo.batched", () => {
  it("calls made by different steps in the same tick become one call with their distinct keys", async () => {
    const scope = makeMemoScope()
    const { getPrice, sent } = prices()
    // A step that awaits first still calls in the same tick (a promise job, not a turn of the event loop).
    const later = async (ticker: string) => {
      for (let i = 0; i < 5; i++) await Promise.resolve()
      return getPrice(ticker)
    }
    const values = await steps(scope, [["a", () => getPrice("AAPL")], ["b", () => later("MSFT")], ["c", () => getPrice("GOOG")], ["d", () => later("AAPL")]])
    expect(sent).toEqual([["AAPL", "GOOG", "MSFT"]]) // in the order they were asked for
    expect(values).toEqual([400, 400, 400, 400])
    expect(scope.stats().get_prices).toMatchObject({ calls: 4, misses: 3, coalesced: 1, hits: 0 })
  })

  it("is also a named export, the same function", () => {
    expect(memo.batched).toBe(batched)
  })

  it("each caller gets the value at its key's position", async () => {
    const getLength = memo.batched("lengths", async (words: Array<string>) => words.map((w) => `${w}:${w.length}`))
    const values = await withMemoScope(makeMemoScope(), () => Promise.all(["a", "bbb", "cc"].map((w) => getLength(w))))
    expect(values).toEqual(["a:1", "bbb:3", "cc:2"])
  })

  it("keys are identified canonically, as memo's arguments are", async () => {
    const seen: Array<Array<unknown>> = []
    const lookup = memo.batched("lookup", async (queries: Array<unknown>) => (seen.push(queries), queries.map((_, i) => i)))
    const values = await withMemoScope(makeMemoScope(), () => Promise.all([lookup({ a: 1, b: 2 }), lookup({ b: 2, a: 1 }), lookup(1), lookup("1")]))
    expect(seen).toEqual([[{ a: 1, b: 2 }, 1, "1"]])
    expect(values).toEqual([0, 0, 1, 2])
  })

  it("maxBatch splits the keys over several calls, a full window going at once", async () => {
    const scope = makeMemoScope()
    const { getPrice, sent } = prices({ maxBatch: 2 })
    const tickers = ["A", "BB", "CCC", "DDDD", "EEEEE"]
    const values = await withMemoScope(scope, () => Promise.all(tickers.map((t) => getPrice(t))))
    expect(sent).toEqual([["A", "BB"], ["CCC", "DDDD"], ["EEEEE"]])
    expect(values).toEqual([100, 200, 300, 400, 500])
  })

  it("keys already remembered are hits and are not sent again", async () => {
    const scope = makeMemoScope()
    const { getPrice, sent } = prices()
    await withMemoScope(scope, () => Promise.all([getPrice("AAPL"), getPrice("MSFT")]))
    const values = await withMemoScope(scope, () => Promise.all([getPrice("AAPL"), getPrice("NVDA"), getPrice("MSFT")]))
    expect(sent).toEqual([["AAPL", "MSFT"], ["NVDA"]])
    expect(values).toEqual([400, 400, 400])
    expect(scope.stats().get_prices).toMatchObject({ calls: 5, misses: 3, hits: 2 })
  })

  it("keys in the store (a later run) are hits and are not sent again", async () => {
    const clock = fakeClock()
    const store = makeMemoryStore({ now: clock.now })
    const { getPrice, sent } = prices({ ttl: "1 hour" })
    await withMemoScope(makeMemoScope({ store, now: clock.now }), () => Promise.all([getPrice("AAPL"), getPrice("MSFT")]))
    const second = makeMemoScope({ store, now: clock.now })
    expect(await withMemoScope(second, () => Promise.all([getPrice("MSFT"), getPrice("TSLA")]))).toEqual([400, 400])
    expect(sent).toEqual([["AAPL", "MSFT"], ["TSLA"]])
    expect(second.stats().get_prices).toMatchObject({ calls: 2, hits: 1, misses: 1 })
    // Each key stored on its own, with the TTL.
    expect((await store.list()).map((e) => e.expiresAt)).toEqual([clock.now() + 3_600_000, clock.now() + 3_600_000, clock.now() + 3_600_000])
  })

  it("a key in flight is joined, not sent twice, by a batched call", async () => {
    const scope = makeMemoScope()
    const gate = deferred<void>()
    const sent: Array<Array<string>> = []
    const getPrice = memo.batched("quotes", async (tickers: Array<string>) => {
      sent.push(tickers)
      await gate.promise
      return tickers.map(() => 7)
    })
    const first = withMemoScope(scope, () => getPrice("AAPL"))
    await new Promise((resolve) => setImmediate(resolve)) // the first batch is sent and waits on the gate
    const later = withMemoScope(scope, () => Promise.all([getPrice("AAPL"), getPrice("MSFT")]))
    gate.resolve()
    expect(await first).toBe(7)
    expect(await later).toEqual([7, 7])
    expect(sent).toEqual([["AAPL"], ["MSFT"]])
    expect(scope.stats().quotes).toMatchObject({ calls: 3, misses: 2, coalesced: 1 })
  })

  it("a later single call of a batched key is a hit; a plain memo of the same name is another function (its own text is in its keys)", async () => {
    const scope = makeMemoScope()
    const { getPrice, sent } = prices()
    await withMemoScope(scope, () => Promise.all([getPrice("AAPL"), getPrice("MSFT")]))
    let single = 0
    const getOne = memo("get_prices", async (_ticker: string) => ++single)
    expect(await withMemoScope(scope, () => getPrice("MSFT"))).toBe(400)
    expect(await withMemoScope(scope, () => getOne("AAPL"))).toBe(1)
    expect(sent).toEqual([["AAPL", "MSFT"]])
    expect(single).toBe(1)
  })

  it("a rejected batch reaches every caller of it; nothing is remembered and the next call tries again", async () => {
    const scope = makeMemoScope()
    let real = 0
    const flaky = memo.batched("flaky", async (keys: Array<string>) => {
      if (++real === 1) throw new Error("503")
      return keys
    })
    const message = (p: Promise<string>) => p.then(() => "ok", (e: Error) => e.message)
    const settled = await steps(scope, [["a", () => message(flaky("x"))], ["b", () => message(flaky("y"))], ["c", () => message(flaky("x"))]])
    expect(settled).toEqual(["503", "503", "503"])
    expect(await withMemoScope(scope, () => flaky("x"))).toBe("x")
    expect(real).toBe(2)
    expect(scope.stats().flaky).toMatchObject({ calls: 4, misses: 3, coalesced: 1, hits: 0 })
  })

  it("a synchronous throw of the batch function is a rejection like any other", async () => {
    const boom = memo.batched("boom", (_keys: Array<number>): Array<number> => {
      throw new Error("sync")
    })
    const settled = await withMemoScope(makeMemoScope(), () => Promise.allSettled([boom(1), boom(2)]))
    expect(settled.map((s) => (s as PromiseRejectedResult).reason.message)).toEqual(["sync", "sync"])
  })

  it("an array of the wrong length fails every caller, naming the memo and both lengths", async () => {
    const scope = makeMemoScope()
    const short = memo.batched("get_prices", async (tickers: Array<string>) => tickers.slice(1))
    const settled = await withMemoScope(scope, () => Promise.allSettled(["AAPL", "MSFT", "NVDA"].map((t) => short(t))))
    const message = 'memo.batched("get_prices"): the batch function returned 2 values for 3 keys; it must return an array with one value per key, in the keys\' order'
    expect(settled).toEqual([0, 1, 2].map(() => ({ status: "rejected", reason: new TypeError(message) })))
    const notArray = memo.batched("not_array", async (_keys: Array<string>) => ({ AAPL: 1 }) as never)
    await expect(withMemoScope(scope, () => notArray("AAPL"))).rejects.toThrow(
      'memo.batched("not_array"): the batch function returned object, not an array, for 1 key;'
    )
    // Nothing remembered: the next call sends the key again.
    const { getPrice, sent } = prices({}, "get_prices")
    expect(await withMemoScope(scope, () => getPrice("AAPL"))).toBe(400)
    expect(sent).toEqual([["AAPL"]])
  })

  it("events are per key, attributed to the step that asked; a key costs its share of the call", async () => {
    const clock = fakeClock()
    const events: Array<MemoEvent> = []
    const scope = makeMemoScope({ now: clock.now, onMemo: (e) => events.push(e) })
    const getPrice = memo.batched("get_prices", async (tickers: Array<string>) => {
      clock.advance(60)
      return tickers.map(() => 1)
    })
    await steps(scope, [["aapl", () => getPrice("AAPL")], ["msft", () => getPrice("MSFT")], ["again", () => getPrice("AAPL")]])
    await steps(scope, [["report", () => getPrice("MSFT")]])
    expect(events).toEqual([
      { step: "aapl", name: "get_prices", outcome: "miss", savedMs: 0, durationMs: 60, keys: 2 },
      { step: "msft", name: "get_prices", outcome: "miss", savedMs: 0, durationMs: 60, keys: 2 },
      { step: "again", name: "get_prices", outcome: "coalesced", savedMs: 30 },
      { step: "report", name: "get_prices", outcome: "hit", savedMs: 30 }
    ])
    expect(scope.stats().get_prices).toEqual({ calls: 4, hits: 1, coalesced: 1, misses: 2, savedMs: 60 })
  })

  it("a failed batch's events say so", async () => {
    const events: Array<MemoEvent> = []
    const scope = makeMemoScope({ onMemo: (e) => events.push(e) })
    const fail = memo.batched("fail", async (_keys: Array<string>): Promise<Array<string>> => Promise.reject(new Error("down")))
    await steps(scope, [["a", () => fail("x").catch(() => "")], ["b", () => fail("x").catch(() => "")]])
    expect(events).toEqual([
      expect.objectContaining({ step: "a", outcome: "miss", failed: true, savedMs: 0 }),
      { step: "b", name: "fail", outcome: "coalesced", savedMs: 0, failed: true }
    ])
  })

  it("`window` collects the calls made within it; a call after it closes goes in the next batch", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
    const scope = makeMemoScope()
    const { getPrice, sent } = prices({ window: "50 millis" })
    const first = withMemoScope(scope, () => getPrice("AAPL"))
    await vi.advanceTimersByTimeAsync(30)
    const second = withMemoScope(scope, () => getPrice("MSFT"))
    await vi.advanceTimersByTimeAsync(19)
    expect(sent).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(sent).toEqual([["AAPL", "MSFT"]])
    const third = withMemoScope(scope, () => getPrice("NVDA"))
    await vi.advanceTimersByTimeAsync(50)
    expect(await Promise.all([first, second, third])).toEqual([400, 400, 400])
    expect(sent).toEqual([["AAPL", "MSFT"], ["NVDA"]])
  })

  it("by default, calls made in a later turn of the event loop go in another batch", async () => {
    const scope = makeMemoScope()
    const { getPrice, sent } = prices()
    const first = withMemoScope(scope, () => getPrice("AAPL"))
    // Queued after the window's `setImmediate`: it runs once that window has closed.
    await new Promise((resolve) => setImmediate(resolve))
    await withMemoScope(scope, () => Promise.all([getPrice("MSFT"), first]))
    expect(sent).toEqual([["AAPL"], ["MSFT"]])
  })

  it("separate scopes (runs) batch separately", async () => {
    const { getPrice, sent } = prices()
    await Promise.all([withMemoScope(makeMemoScope(), () => getPrice("AAPL")), withMemoScope(makeMemoScope(), () => getPrice("MSFT"))])
    expect(sent).toEqual([["AAPL"], ["MSFT"]])
  })

  it("refuses bad options when the function is defined, and keys with no canonical form when called", async () => {
    const fn = async (keys: Array<string>) => keys
    expect(() => memo.batched("p", fn, { maxBatch: 0 })).toThrow('memo.batched("p"): maxBatch 0 is not a number of keys (try 50, or leave it out for no limit)')
    expect(() => memo.batched("p", fn, { maxBatch: 2.5 })).toThrow(/maxBatch 2\.5 is not a number of keys/)
    expect(() => memo.batched("p", fn, { window: "soon" as never })).toThrow('memo.batched("p"): window "soon" is not a duration (try "20 millis" or a number of milliseconds)')
    expect(() => memo.batched("p", fn, { ttl: "5 fortnights" as never })).toThrow(/memo\.batched\("p"\): ttl "5 fortnights"/)
    expect(() => memo.batched("", fn)).toThrow("memo.batched: the name must be a non-empty string")
    expect(() => memo.batched("p", [] as never)).toThrow('memo.batched("p"): the batch function must be a function')
    const bySignal = memo.batched("by_signal", async (signals: Array<AbortSignal>) => signals.map(() => 1))
    await expect(bySignal(new AbortController().signal)).rejects.toThrow(/^memo\.batched\("by_signal"\): cannot identify the call: arguments\[0\] is an instance of AbortSignal.*; pass a `key` that leaves it out$/)
  })

  it("`key` decides what identifies a key; the batch function gets the first caller's", async () => {
    const seen: Array<Array<string>> = []
    const upper = memo.batched("upper", async (words: Array<string>) => (seen.push(words), words.map((w) => w.trim().toUpperCase())), { key: (w) => w.trim() })
    const values = await withMemoScope(makeMemoScope(), () => Promise.all([upper(" acme"), upper("acme "), upper("beta")]))
    expect(values).toEqual(["ACME", "ACME", "BETA"])
    expect(seen).toEqual([[" acme", "beta"]])
  })

  it("types: values are typed from the batch function, keys from its parameter", () => {
    const getPrice = memo.batched("typed", async (tickers: Array<string>) => tickers.map((t) => ({ t, price: 1 })))
    const p: Promise<{ t: string; price: number }> = getPrice("A")
    void p.catch(() => {})
    // @ts-expect-error: keys are strings
    void getPrice(1).catch(() => {})
    // @ts-expect-error: `key` takes a key
    memo.batched("typed", async (tickers: Array<string>) => tickers, { key: (t: number) => t })
  })
})
