/**
 * `weft verify` on a terminal: its progress drawn live with Ink. Reports
 * fold into the view model at once (cheap); a timer draws at most every
 * `tickMs`, and only when the view changed, since a search of function steps
 * can report hundreds of runs a second.
 *
 * It reads no keys: Ctrl-C stays the terminal's SIGINT, which the command
 * handles as `weft run` does. Loaded only when chosen (Ink and React take a
 * few hundred milliseconds to load).
 */
import { render } from "ink"
import { createElement as h } from "react"
import type { VerifyProgress as Progress } from "../properties/index.ts"
import { unpatchedStdout } from "../runtime/Reporter.ts"
import { VerifyProgress } from "./components/VerifyProgress.ts"
import { tickMs } from "./dashboard.ts"
import { makeTheme } from "./theme.ts"
import { applyProgress, finishView, initialVerifyView, type VerifyView } from "./verifyModel.ts"

export interface VerifyDashboardOptions {
  readonly workflow: string
  readonly schedulesTotal: number
  /** Where to draw (default: process.stdout). */
  readonly stdout?: NodeJS.WriteStream | undefined
  /** Colours on (default) or off (`NO_COLOR`). */
  readonly color?: boolean | undefined
  /** Ink's debug mode: each frame written whole, for tests. */
  readonly debug?: boolean | undefined
}

export interface VerifyDashboard {
  readonly onProgress: (progress: Progress) => void
  /** Draws the last frame and gives the terminal back; the report is printed below it. */
  readonly finish: (interrupted: boolean) => Promise<void>
  readonly view: () => VerifyView
}

export const verifyDashboard = (options: VerifyDashboardOptions): VerifyDashboard => {
  const stdout = options.stdout ?? unpatchedStdout()
  const theme = makeTheme(options.color ?? true)
  let view = initialVerifyView(options.workflow, options.schedulesTotal)
  let drawn = view
  const element = () => {
    const rows = stdout.rows > 0 ? stdout.rows : 24
    return h(VerifyProgress, { view, width: stdout.columns > 0 ? stdout.columns : 80, height: Math.max(1, rows - 3), theme })
  }
  const instance = render(element(), { stdout, debug: options.debug ?? false, interactive: stdout.isTTY === true, exitOnCtrlC: false, patchConsole: false })
  const draw = () => {
    drawn = view
    instance.rerender(element())
  }
  const timer = setInterval(() => {
    if (view !== drawn) draw()
  }, tickMs)
  timer.unref()
  return {
    onProgress: (progress) => void (view = applyProgress(view, progress)),
    view: () => view,
    finish: async (interrupted) => {
      clearInterval(timer)
      view = finishView(view, interrupted)
      draw()
      instance.unmount()
      await instance.waitUntilExit()
    }
  }
}
