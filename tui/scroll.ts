/**
 * Which step rows fit on screen. When all of them do, all show; otherwise the
 * selected row and the running rows are kept (they are what the user watches),
 * rows next to the selection fill the space left, and each run of hidden rows
 * becomes one `… N more` line. The result never takes more than `height`
 * lines, gaps included, so the frame never outgrows the terminal.
 *
 * @example
 * visibleRows(100, 5, 50, []) // => [{ more: 49 }, 49, 50, 51, { more: 48 }]
 */

/** A row index, or a line standing for `more` hidden rows. */
export type VisibleLine = number | { readonly more: number }

export const visibleRows = (
  count: number,
  height: number,
  selected: number | undefined,
  running: Iterable<number>
): Array<VisibleLine> => {
  if (height <= 0 || count <= 0) return []
  if (count <= height) return Array.from({ length: count }, (_, i) => i)
  const shown = new Set<number>()
  const tryAdd = (row: number): boolean => {
    if (row < 0 || row >= count || shown.has(row)) return false
    shown.add(row)
    if (linesOf(shown, count) <= height) return true
    shown.delete(row)
    return false
  }
  const anchor = selected === undefined ? undefined : Math.min(Math.max(selected, 0), count - 1)
  if (anchor !== undefined) tryAdd(anchor)
  // Running rows nearest the selection first: if they do not all fit, the far
  // ones are the ones folded into a "more" line.
  const centre = anchor ?? 0
  const busy = [...running].filter((r) => r >= 0 && r < count).sort((a, b) => Math.abs(a - centre) - Math.abs(b - centre) || a - b)
  for (const row of busy) tryAdd(row)
  // Then context, nearest the selection (or the first running row) first;
  // below before above, since steps run top to bottom.
  const from = anchor ?? busy[0] ?? 0
  for (let d = 1; d < count && linesOf(shown, count) < height; d++) {
    tryAdd(from + d)
    tryAdd(from - d)
  }
  return layout(shown, count)
}

/** Lines the rows in `shown` take: one each, plus one per run of hidden rows. */
const linesOf = (shown: ReadonlySet<number>, count: number): number => layout(shown, count).length

const layout = (shown: ReadonlySet<number>, count: number): Array<VisibleLine> => {
  const rows = [...shown].sort((a, b) => a - b)
  const lines: Array<VisibleLine> = []
  let next = 0
  for (const row of rows) {
    if (row > next) lines.push({ more: row - next })
    lines.push(row)
    next = row + 1
  }
  if (next < count) lines.push({ more: count - next })
  return lines
}
