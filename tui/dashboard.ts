/**
 * The dashboard reporter: events go into the view model and nothing else
 * (O(1), no React work), and a timer draws a frame at most every `tickMs`
 * (60 ms), only when the model changed or, while steps run, when the clock
 * moved on a spinner beat. So a burst of thousands of events costs one frame,
 * and an idle watch session costs none.
 *
 * ```
 *            created              Ink loaded                 onEnd (no controls)
 *  loading line ───────▶ loading ───────────▶ live ─────────────────────────▶ unmounted
 *  written at once       (events fold        (timer draws)  ─── close() ───▶ (last frame
 *                         into the model)                                     left on screen)
 * ```
 *
 * In watch mode (`controls` given) `onEnd` draws the summary and stays live
 * for the next run; `close()` unmounts.
 */
import { unpatchedStdout, type Reporter } from "../runtime/Reporter.ts"
import type { AppProps } from "./components/App.ts"
import { clip, spinnerMs } from "./format.ts"
import type { DashboardOptions } from "./index.ts"
import type { KeyAction } from "./keys.ts"
import { Model } from "./model.ts"
import type { Mounted } from "./mount.ts"
import { makeTheme } from "./theme.ts"

/** What tests swap in. */
export interface DashboardInternals {
  /** Wall-clock milliseconds (default `performance.now`). */
  readonly now?: (() => number) | undefined
  /** Ink's debug mode: each frame written whole, so a test reads frames. */
  readonly debug?: boolean | undefined
  /** The render timer's period (default 60 ms). */
  readonly tickMs?: number | undefined
}

/** The reporter, plus what tests look at. */
export interface LiveDashboard extends Reporter {
  readonly model: Model
  /** Settles once Ink is loaded and the first frame drawn. */
  readonly ready: Promise<void>
  /** Frames drawn so far. */
  readonly renders: () => number
}

export const tickMs = 60

export const makeDashboard = (options: DashboardOptions, internals: DashboardInternals = {}): LiveDashboard => {
  // Ink writes its frames with `stdout.write`, which a run patches to catch a step's writes.
  const stdout = options.stdout ?? unpatchedStdout()
  const stdin = options.stdin ?? process.stdin
  const controls = options.controls
  const model = new Model({
    file: options.file,
    estimates: options.estimates,
    runNumber: options.runNumber,
    now: internals.now ?? (() => performance.now())
  })
  const theme = makeTheme(options.color ?? true)
  let mounted: Mounted | undefined
  let timer: NodeJS.Timeout | undefined
  let closed = false
  let final = false
  let renders = 0
  let drawnVersion = -1
  let drawnBeat = -1

  const interrupt = () => {
    model.interrupt()
    options.onInterrupt?.()
  }
  const onKey = (action: KeyAction, page: number) => {
    switch (action) {
      case "up":
        model.move(-1)
        break
      case "down":
        model.move(1)
        break
      case "toggle":
        model.toggle()
        break
      case "pageUp":
        model.page(1, page)
        break
      case "pageDown":
        model.page(-1, page)
        break
      case "rerunAll":
        controls?.rerunAll()
        break
      case "rerunFailed":
        controls?.rerunFailed()
        break
      case "clear":
        model.clear()
        controls?.clear()
        break
      case "quit":
      case "interrupt":
        if (controls !== undefined) controls.quit()
        else interrupt()
        break
    }
    // A key answers at once, not on the next beat.
    draw()
  }
  const props = (): AppProps => ({ model, now: model.runTime(), theme, watching: controls !== undefined, final, onKey })
  const draw = () => {
    if (mounted === undefined || closed) return
    const p = props()
    drawnVersion = model.version
    drawnBeat = Math.floor(p.now / spinnerMs)
    renders++
    mounted.draw(p)
  }
  const tick = () => {
    const moved = model.phase === "running" && Math.floor(model.runTime() / spinnerMs) !== drawnBeat
    if (model.version !== drawnVersion || moved) draw()
  }

  // Something on screen before Ink has even loaded; the first frame overwrites it.
  const columns = stdout.columns > 0 ? stdout.columns : 80
  const loading = clip(`weft ▸ ${options.file === undefined ? "" : `${options.file} · `}loading…`, columns - 1)
  stdout.write(loading)
  const ready = import("./mount.ts").then(({ mount }) => {
    stdout.write(`\r${" ".repeat(loading.length)}\r`)
    if (closed) return
    mounted = mount(props(), { stdout, stdin, debug: internals.debug ?? false })
    renders++
    drawnVersion = model.version
    timer = setInterval(tick, internals.tickMs ?? tickMs)
    // The run keeps the process alive, never the dashboard.
    timer.unref()
  })

  const stop = async () => {
    if (closed) return
    closed = true
    clearInterval(timer)
    await mounted?.unmount()
  }

  return {
    model,
    ready,
    renders: () => renders,
    onEvent: (event) => model.apply(event),
    onWatch: (event) => model.applyWatch(event),
    async onEnd(result) {
      model.finish(result.status, result.durationMs)
      await ready
      if (controls === undefined) final = true
      draw()
      if (controls === undefined) await stop()
    },
    async close() {
      if (closed) return
      await ready
      await stop()
    }
  }
}
