import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import type { CacheStore } from "./cache/CacheStore.ts"
import { makeFileStore } from "./cache/FileStore.ts"
import { makeMemoryStore } from "./cache/MemoryStore.ts"
import { currentMemoScope, defaultMemoScope, makeMemoScope, memo, withMemoScope, withMemoStep, type MemoEvent } from "./memo.ts"

/** A clock the test moves; a call "takes" `ms` by advancing it. */
const fakeClock = (start = 1_000_000) => {
  let t = start
  return { now: () => t, advance: (ms: number) => void (t += ms) }
}

/** A deferred, so a test decides when the real call finishes. */
const deferred = <A>() => {
  let resolve!: (a: A) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<A>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe("memo", () => {
  it("100 concurrent identical calls make one real call and share its result", async () => {
    const scope = makeMemoScope()
    let real = 0
    const gate = deferred<void>()
    const fetchUser = memo("fetch_user", async (id: number) => {
      real++
      await gate.promise
      return { id, name: "Ada" }
    })
    const results = withMemoScope(scope, () => Promise.all(Array.from({ length: 100 }, () => fetchUser(7))))
    gate.resolve()
    const values = await results
    expect(real).toBe(1)
    expect(new Set(values).size).toBe(1)
    expect(values[0]).toEqual({ id: 7, name: "Ada" })
    expect(scope.stats().fetch_user).toMatchObject({ calls: 100, misses: 1, coalesced: 99, hits: 0 })
  })

  it("different arguments are separate calls; canonically equal ones share", async () => {
    const scope = makeMemoScope()
    const seen: Array<unknown> = []
    const query = memo("query", async (q: unknown) => {
      seen.push(q)
      return seen.length
    })
    await withMemoScope(scope, async () => {
      const [a, b, c] = await Promise.all([query({ a: 1, b: 2 }), query({ b: 2, a: 1 }), query({ a: 1, b: 3 })])
      expect(a).toBe(b)
      expect(c).not.toBe(a)
      expect(await query("1")).not.toBe(await query(1))
    })
    expect(seen).toEqual([{ a: 1, b: 2 }, { a: 1, b: 3 }, "1", 1])
    expect(scope.stats().query).toMatchObject({ calls: 5, misses: 4, coalesced: 1 })
  })

  it("`key` decides what identifies a call", async () => {
    const scope = makeMemoScope()
    let real = 0
    const search = memo("search", async (q: string, _signal: AbortSignal) => ++real && q.toUpperCase(), { key: (q) => q.trim() })
    await withMemoScope(scope, async () => {
      expect(await search("acme", new AbortController().signal)).toBe("ACME")
      // Another signal and surrounding spaces: the same call, answered from the first.
      expect(await search(" acme ", new AbortController().signal)).toBe("ACME")
    })
    expect(real).toBe(1)
    expect(scope.stats().search).toMatchObject({ calls: 2, hits: 1, misses: 1 })
  })

  it("`key` takes the arguments of `fn`, typed", () => {
    memo("typed", async (q: string, _signal: AbortSignal) => q, { key: (q) => q.length })
    // @ts-expect-error: the first argument is a string
    memo("typed", async (q: string, _signal: AbortSignal) => q, { key: (q: number) => q })
  })

  it("arguments with no canonical form are refused, naming the function and suggesting `key`", async () => {
    const search = memo("search", async (_signal: AbortSignal) => 1)
    await expect(withMemoScope(makeMemoScope(), () => search(new AbortController().signal))).rejects.toThrow(/^memo\("search"\): cannot identify the call: arguments\[0\] is an instance of AbortSignal.*; pass a `key` that leaves it out$/)
  })

  it("an error reaches every waiter, is not cached, and the next call tries again", async () => {
    const scope = makeMemoScope()
    let real = 0
    const gate = deferred<void>()
    const flaky = memo("flaky", async () => {
      real++
      await gate.promise
      if (real === 1) throw new Error("503")
      return "ok"
    })
    const first = withMemoScope(scope, () => Promise.allSettled([flaky(), flaky(), flaky()]))
    gate.resolve()
    const settled = await first
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected", "rejected"])
    expect(settled.map((s) => (s as PromiseRejectedResult).reason.message)).toEqual(["503", "503", "503"])
    expect(await withMemoScope(scope, () => flaky())).toBe("ok")
    expect(real).toBe(2)
    expect(scope.stats().flaky).toMatchObject({ calls: 4, misses: 2, coalesced: 2, hits: 0, savedMs: 0 })
  })

  it("a synchronous throw is an error like any other", async () => {
    const scope = makeMemoScope()
    const boom = memo("boom", (): number => {
      throw new Error("sync")
    })
    await expect(withMemoScope(scope, () => boom())).rejects.toThrow("sync")
    await expect(withMemoScope(scope, () => boom())).rejects.toThrow("sync")
    expect(scope.stats().boom).toMatchObject({ calls: 2, misses: 2 })
  })

  it("a result is reused until its TTL passes, then called again", async () => {
    const clock = fakeClock()
    const store = makeMemoryStore({ now: clock.now })
    const scope = makeMemoScope({ store, now: clock.now })
    let real = 0
    const rate = memo("rate", async (pair: string) => `${pair}:${++real}`, { ttl: "5 minutes" })
    const call = () => withMemoScope(scope, () => rate("EURUSD"))
    expect(await call()).toBe("EURUSD:1")
    expect(await store.list()).toEqual([expect.objectContaining({ kind: "memo", name: "rate", expiresAt: clock.now() + 5 * 60_000 })])
    clock.advance(5 * 60_000)
    expect(await call()).toBe("EURUSD:1")
    clock.advance(1)
    expect(await call()).toBe("EURUSD:2")
    expect(scope.stats().rate).toMatchObject({ calls: 3, hits: 1, misses: 2 })
  })

  it("a later scope sharing the store gets a hit that saves the first call's duration", async () => {
    const clock = fakeClock()
    const store = makeMemoryStore({ now: clock.now })
    let real = 0
    const profile = memo("get_company_profile", async (ticker: string) => {
      real++
      clock.advance(42)
      return { ticker, name: "Acme Corp", founded: new Date(0), tags: new Set(["b2b"]) }
    })
    const first = makeMemoScope({ store, now: clock.now, workflow: "research" })
    const a = await withMemoScope(first, () => profile("ACME"))
    const [info] = await store.list()
    expect(await store.get(info!.key)).toMatchObject({ kind: "memo", workflow: "research", name: "get_company_profile", durationMs: 42 })
    const events: Array<MemoEvent> = []
    const second = makeMemoScope({ store, now: clock.now, onMemo: (e) => events.push(e) })
    const b = await withMemoScope(second, () => profile("ACME"), { step: "report" })
    expect(real).toBe(1)
    expect(b).toEqual(a)
    expect(b).not.toBe(a)
    expect(second.stats().get_company_profile).toEqual({ calls: 1, hits: 1, coalesced: 0, misses: 0, savedMs: 42 })
    expect(events).toEqual([{ step: "report", name: "get_company_profile", outcome: "hit", savedMs: 42 }])
  })

  it("a later run on the same store folder gets the result from disk", async () => {
    const dir = await mkdtemp(join(tmpdir(), "weft-memo-"))
    try {
      const clock = fakeClock()
      let real = 0
      const financials = memo("get_company_financials", async (ticker: string) => {
        real++
        clock.advance(60)
        return { ticker, revenue: 12_400_000_000n, quarters: new Map([["Q1", 3.1]]) }
      }, { ttl: "1 hour" })
      const runOnce = () => {
        const scope = makeMemoScope({ store: makeFileStore(dir, { now: clock.now, durable: false }), now: clock.now, workflow: "research" })
        return withMemoScope(scope, () => financials("ACME")).then((value) => ({ value, stats: scope.stats().get_company_financials }))
      }
      const first = await runOnce()
      const second = await runOnce()
      expect(real).toBe(1)
      expect(second.value).toEqual(first.value)
      expect(second.stats).toEqual({ calls: 1, hits: 1, coalesced: 0, misses: 0, savedMs: 60 })
      clock.advance(60 * 60_000 + 1)
      await runOnce()
      expect(real).toBe(2)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it("each hit is a copy: mutating a result does not change the next one", async () => {
    const scope = makeMemoScope()
    const list = memo("list", async () => [1, 2, 3])
    await withMemoScope(scope, async () => {
      ;(await list()).push(4)
      const again = await list()
      again.push(5)
      expect(await list()).toEqual([1, 2, 3])
    })
  })

  it("a result that cannot be serialized is returned but not cached, and a warning names the path", async () => {
    const clock = fakeClock()
    const store = makeMemoryStore({ now: clock.now })
    const warnings: Array<string> = []
    const scope = makeMemoScope({ store, now: clock.now, onWarning: (w) => warnings.push(w) })
    let real = 0
    const connect = memo("connect", async () => ({ ok: true, session: { signal: new AbortController().signal }, real: ++real }))
    const result = await withMemoScope(scope, () => connect())
    expect(result.session.signal).toBeInstanceOf(AbortSignal)
    expect(await withMemoScope(scope, () => connect())).toMatchObject({ real: 2 })
    expect(await store.list()).toEqual([])
    expect(warnings).toEqual([
      expect.stringMatching(/^memo\("connect"\): the result was not cached: result\.session\.signal is an event target/),
      expect.stringMatching(/^memo\("connect"\): the result was not cached: result\.session\.signal/)
    ])
    const withFn = memo("with_fn", async () => ({ nested: [{ f: () => 1 }] }))
    await withMemoScope(scope, () => withFn())
    expect(warnings[2]).toBe('memo("with_fn"): the result was not cached: result.nested[0].f is a function')
  })

  it("a failing store never fails the call", async () => {
    const warnings: Array<string> = []
    const broken: CacheStore = {
      ...makeMemoryStore(),
      get: () => Promise.reject(new Error("disk gone")),
      put: () => Promise.reject(new Error("disk full"))
    }
    const scope = makeMemoScope({ store: broken, onWarning: (w) => warnings.push(w) })
    const answer = memo("answer", async () => 42)
    expect(await withMemoScope(scope, () => answer())).toBe(42)
    expect(warnings).toEqual([expect.stringContaining("disk gone"), expect.stringContaining("disk full")])
  })

  it("events carry the step each call was made in", async () => {
    const clock = fakeClock()
    const events: Array<MemoEvent> = []
    const scope = makeMemoScope({ now: clock.now, onMemo: (e) => events.push(e) })
    const gate = deferred<void>()
    const ratings = memo("get_analyst_ratings", async (_t: string) => {
      await gate.promise
      clock.advance(30)
      return ["buy"]
    })
    const runs = withMemoScope(scope, () =>
      Promise.all([withMemoStep("ratings", () => ratings("ACME")), withMemoStep("financials", () => ratings("ACME"))]))
    gate.resolve()
    await runs
    await withMemoScope(scope, () => ratings("ACME"), { step: "report" })
    expect(events).toEqual([
      { step: "ratings", name: "get_analyst_ratings", outcome: "miss", savedMs: 0, durationMs: 30 },
      { step: "financials", name: "get_analyst_ratings", outcome: "coalesced", savedMs: 30 },
      { step: "report", name: "get_analyst_ratings", outcome: "hit", savedMs: 30 }
    ])
    expect(scope.stats().get_analyst_ratings).toEqual({ calls: 3, hits: 1, coalesced: 1, misses: 1, savedMs: 60 })
  })

  it("outside any scope, the process-wide scope coalesces", async () => {
    expect(currentMemoScope()).toBe(defaultMemoScope)
    let real = 0
    const ping = memo("memo.test ping", async () => ++real)
    expect(await Promise.all([ping(), ping(), ping()])).toEqual([1, 1, 1])
    expect(real).toBe(1)
    expect(defaultMemoScope.stats()["memo.test ping"]).toMatchObject({ calls: 3, misses: 1, coalesced: 2 })
    withMemoStep("s", () => expect(currentMemoScope()).toBe(defaultMemoScope))
  })

  it("rejects a TTL that is not a duration when the function is defined", () => {
    expect(() => memo("bad", async () => 1, { ttl: "5 fortnights" as never })).toThrow(/memo\("bad"\): ttl "5 fortnights"/)
  })
})
