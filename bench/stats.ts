/** Small helpers shared by the benchmarks. */

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** `value` with `digits` significant digits, for tables. */
export const fmt = (value: number, digits = 3): string =>
  Number.isFinite(value) ? String(+value.toPrecision(digits)) : String(value)

/** Left-pads every cell of a table so its columns line up. */
export const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)))
  return rows.map((row) => row.map((cell, c) => cell.padStart(widths[c]!)).join("  ")).join("\n")
}

/** Milliseconds of each of `repeats` runs of `f`, one after another (warm up before calling this). */
export const timeRuns = async (f: () => Promise<unknown> | unknown, repeats: number): Promise<Array<number>> => {
  const ms: Array<number> = []
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now()
    await f()
    ms.push(performance.now() - t0)
  }
  return ms
}
