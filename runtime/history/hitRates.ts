/**
 * How often the cache and memoized calls answered over some runs, for
 * `weft cache stats`.
 */
import type { HistoryRecord } from "./History.ts"

/** Hit rates over some runs: a rate is `undefined` when nothing was asked. */
export interface HitRates {
  readonly runs: number
  readonly steps: { readonly cached: number; readonly ran: number; readonly rate: number | undefined }
  /** Per memoized function: (hits + coalesced) / calls. */
  readonly memo: Readonly<Record<string, { readonly calls: number; readonly answered: number; readonly rate: number | undefined }>>
  readonly savedMs: number
}

/** How often the cache answered over `records`: cached steps / (cached + ran), memo (hits + coalesced) / calls. */
export const hitRates = (records: ReadonlyArray<HistoryRecord>): HitRates => {
  let cached = 0
  let ran = 0
  let savedMs = 0
  const memo: Record<string, { calls: number; answered: number }> = {}
  for (const r of records) {
    cached += r.steps.cached ?? 0
    ran += r.steps.ran ?? 0
    savedMs += r.savedMs
    for (const [name, line] of Object.entries(r.memo)) {
      const m = (memo[name] ??= { calls: 0, answered: 0 })
      m.calls += line.calls
      m.answered += line.hits + line.coalesced
    }
  }
  const rate = (part: number, whole: number) => (whole === 0 ? undefined : part / whole)
  return {
    runs: records.length,
    steps: { cached, ran, rate: rate(cached, cached + ran) },
    memo: Object.fromEntries(Object.entries(memo).map(([name, m]) => [name, { ...m, rate: rate(m.answered, m.calls) }])),
    savedMs
  }
}
