/**
 * Telling a step that writes its own inputs from a user editing them while
 * it runs. Nothing tells the two apart but timing, so this keeps, per step,
 * when it last ran, and counts its runs in a row during which its inputs
 * changed. A change counts as made while the step ran when the step is
 * running, or the file's mtime falls within its last run (a deleted file: the
 * event's arrival).
 *
 * ```
 *   change to a step's inputs ──▶ made while it ran?
 *        no ─────────────────────────────────────────────▶ now
 *        yes, 1st run in a row ──────────────────────────▶ now     (maybe the user: rerun, interrupting it)
 *        yes, 2nd run in a row, still running ───────────▶ after   (let it finish, then rerun: no edit lost)
 *        yes, 2nd once ended, or 3rd and later ──────────▶ ignore  (its own writes: warn once, do not loop)
 *   a run of the step during which none changed resets the count
 * ```
 *
 * Pure but for the clock and the file system, both given.
 */
import type { FileChange } from "./Watcher.ts"

/** What to do about a change to a step's inputs. */
export type Decision = "now" | "after" | "ignore"

/** When a step last ran (epoch ms), and whether its inputs changed meanwhile. */
interface Window {
  readonly start: number
  end: number | undefined
  touched: boolean
}

/**
 * How much earlier than a step's start a file's mtime may say it changed and
 * still count as changed while the step ran: the kernel stamps mtimes with a
 * coarse clock (a tick, a few ms, behind). An mtime is never later than the
 * write, which comes before the step's end: no slack after.
 */
const slackMs = 20
/** Without an mtime (a deleted file), the event's arrival, which chokidar may hold back 100 ms for atomic saves. */
const unlinkSlackMs = 250

export class SelfWrites {
  readonly #windows = new Map<string, Window>()
  /** Runs in a row of each step during which its inputs changed. */
  readonly #counts = new Map<string, number>()
  readonly #warned = new Set<string>()
  readonly #mtimeOf: (file: string) => number | undefined

  /** `mtimeOf`: a file's modification time (epoch ms), `undefined` when it is gone. */
  constructor(mtimeOf: (file: string) => number | undefined) {
    this.#mtimeOf = mtimeOf
  }

  /** The step's body started (`step:start`, first attempt) at `at`. */
  started(step: string, at: number): void {
    const previous = this.#windows.get(step)
    if (previous !== undefined && previous.end === undefined) return
    // Its last run changed none of its inputs: whatever it did before is forgiven.
    if (previous !== undefined && !previous.touched) this.#counts.delete(step)
    this.#windows.set(step, { start: at, end: undefined, touched: false })
  }

  /** The step ended (`step:end`) at `at`. */
  ended(step: string, at: number): void {
    const window = this.#windows.get(step)
    if (window !== undefined && window.end === undefined) window.end = at
  }

  /** Whether the step's body is running now. */
  running(step: string): boolean {
    const window = this.#windows.get(step)
    return window !== undefined && window.end === undefined
  }

  /** The step is gone or redefined: its history no longer applies. */
  forget(step: string): void {
    this.#windows.delete(step)
    this.#counts.delete(step)
  }

  /**
   * What to do about `changes` to the step's inputs, and, the first time it
   * is ignored, the files to name in a warning.
   */
  decide(step: string, changes: ReadonlyArray<FileChange>): { readonly decision: Decision; readonly warn?: ReadonlyArray<string> } {
    const window = this.#windows.get(step)
    if (window === undefined) return { decision: "now" }
    const during = changes.filter((change) => this.#during(window, change))
    if (during.length === 0) return { decision: "now" }
    if (!window.touched) {
      window.touched = true
      this.#counts.set(step, (this.#counts.get(step) ?? 0) + 1)
    }
    const times = this.#counts.get(step) ?? 0
    if (times < 2) return { decision: "now" }
    if (times === 2 && window.end === undefined) return { decision: "after" }
    if (this.#warned.has(step)) return { decision: "ignore" }
    this.#warned.add(step)
    return { decision: "ignore", warn: during.map((change) => change.path) }
  }

  #during(window: Window, change: FileChange): boolean {
    if (window.end === undefined) return true
    const mtime = this.#mtimeOf(change.path)
    const at = mtime ?? change.time
    return at >= window.start - slackMs && at <= window.end + (mtime === undefined ? unlinkSlackMs : 0)
  }
}
