/**
 * How the terminal's rows are shared out, as a pure function of its height
 * and what there is to show. The frame stays one row short of the terminal:
 * a frame as tall as the terminal makes Ink clear the screen on every change
 * (flicker), and one taller scrolls away.
 *
 * ```
 *  header     2 lines: name, run, time, ETA, slots / overall progress
 *  banner     watch messages and warnings (at most a third of the screen)
 *  list       the step rows, scrolled (room for the running and selected rows when the screen allows)
 *  pane       the selected step's log: a title and 4 lines, or most of the screen when expanded
 *  summary    once the run ended
 *  footer     the keys
 * ```
 */

export interface ScreenInput {
  /** Terminal rows. */
  readonly rows: number
  readonly steps: number
  /** Rows the list should show at once if it can (the running ones and the selection). */
  readonly keep: number
  readonly banner: number
  readonly summary: number
  readonly footer: number
  readonly expanded: boolean
  /** At most this many pane lines (the final frame keeps only a failed step's error). */
  readonly paneCap?: number | undefined
}

export interface Screen {
  readonly banner: number
  /** Lines for step rows (and their "… N more" lines). */
  readonly list: number
  /** The pane's log lines, under its title line; 0: no pane. */
  readonly pane: number
  readonly summary: number
  readonly footer: number
}

export const headerLines = 2
const collapsedPane = 4
const minList = 3
const minPane = 2

export const screen = (input: ScreenInput): Screen => {
  let free = Math.max(0, input.rows - 1 - headerLines)
  const footer = Math.min(input.footer, free)
  free -= footer
  const summary = Math.min(input.summary, free)
  free -= summary
  const banner = Math.min(input.banner, Math.floor(free / 3))
  free -= banner
  // Room for the rows that must show and a "more" line either side of them,
  // short of squeezing the log pane below its title and two lines.
  const wantList = Math.min(input.steps, Math.max(minList, Math.min(input.keep + 2, free - 1 - minPane)))
  // Title plus at least one line, when that leaves the list its minimum.
  const paneRoom = Math.max(0, free - wantList - 1)
  const paneWanted = input.expanded ? paneRoom : Math.max(collapsedPane, free - 1 - input.steps)
  const pane = paneRoom === 0 ? 0 : Math.min(paneWanted, paneRoom, input.paneCap ?? Infinity)
  const list = free - (pane > 0 ? pane + 1 : 0)
  return { banner, list, pane, summary, footer }
}
