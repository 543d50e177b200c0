/**
 * What the plain reporter says while steps run, so a log in CI is never
 * silent for minutes: each step's start, its progress (at most one line per
 * step per {@link progressEveryMs}, and one when it reaches its total), a
 * "still running" line after each {@link quietMs} without output, and the
 * ETA on those lines when one is known (the dashboard's figure: `Forecast`).
 *
 * The silence timer runs on an injected clock, so tests move virtual time.
 * It is one timer per run, not one per line: each write only notes the time,
 * and the timer, when it fires early, sleeps for what is left of the quiet.
 */
import type { EventOf } from "../Event.ts"
import type { Write } from "../Reporter.ts"
import { Forecast, formatEta } from "../forecast/index.ts"
import { shortDuration } from "../shortDuration.ts"

/** Wall-clock time and timers: `Date.now` and `setTimeout` by default, virtual in tests. */
export interface PlainClock {
  readonly now: () => number
  readonly setTimeout: (run: () => void, ms: number) => unknown
  readonly clearTimeout: (handle: unknown) => void
}

export const realClock: PlainClock = {
  now: () => performance.now(),
  setTimeout: (run, ms) => {
    const timer = setTimeout(run, ms)
    // The run keeps the process alive, never its reporter.
    timer.unref()
    return timer
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout)
}

/** Silence (ms) after which the steps still running are listed. */
export const quietMs = 30_000

/** A step's progress is printed at most this often (ms), besides when it reaches its total. */
export const progressEveryMs = 10_000

/**
 * The ETA is simulated at most this often (ms of wall time), the line in
 * between reusing it: the simulation is O(steps), and a 100,000-step run
 * starts 100,000 steps.
 */
export const etaEveryMs = 1000

/** The "still running" line names at most this many steps, then counts the rest. */
export const namedRunning = 8

export class LiveLines {
  readonly #write: Write
  readonly #clock: PlainClock
  readonly #forecast = new Forecast()
  #ids: ReadonlyArray<string> = []
  /** Wall time at run time 0. */
  #origin = 0
  /** Run time of each running step's first start. */
  readonly #since = new Map<string, number>()
  /** Run time of the last progress line each step printed (or of its start). */
  readonly #lastProgress = new Map<string, number>()
  /** Steps whose last printed progress was their total: a repeat of it waits its turn. */
  readonly #complete = new Set<string>()
  /** Wall time of the last write. */
  #lastWrite = 0
  #timer: unknown = undefined
  /** The last ETA text, and the wall time it was simulated at. */
  #etaText = ""
  #etaAt = -Infinity

  constructor(write: Write, clock: PlainClock) {
    this.#clock = clock
    this.#write = (text) => {
      this.#lastWrite = clock.now()
      write(text)
    }
  }

  /** Every write of the reporter goes through here: it restarts the silence. */
  get write(): Write {
    return this.#write
  }

  begin(event: EventOf<"run:start">): void {
    this.#origin = this.#clock.now() - event.time
    this.#ids = event.steps.map((s) => s.id)
    this.#forecast.begin(event)
    this.#since.clear()
    this.#lastProgress.clear()
    this.#complete.clear()
    this.#lastWrite = this.#clock.now()
    this.#etaAt = -Infinity
    this.stop()
    this.#arm(quietMs)
  }

  /** Any event after `run:start`. */
  apply(event: Exclude<Parameters<Forecast["apply"]>[0], EventOf<"run:start">>): void {
    this.#forecast.apply(event)
    switch (event.type) {
      case "step:start":
        if (!this.#since.has(event.step)) this.#since.set(event.step, event.time)
        this.#lastProgress.set(event.step, event.time)
        this.#write(`▸ ${event.step} started${event.worker === undefined ? "" : ` on ${event.worker}`}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}${this.#eta(event.time)}\n`)
        return
      case "step:progress": {
        const last = this.#lastProgress.get(event.step) ?? -Infinity
        const complete = event.total !== undefined && event.done >= event.total
        if (event.time - last < progressEveryMs && !(complete && !this.#complete.has(event.step))) return
        this.#lastProgress.set(event.step, event.time)
        if (complete) this.#complete.add(event.step)
        else this.#complete.delete(event.step)
        const amount = event.total === undefined ? `${event.done}` : `${event.done}/${event.total} (${Math.round((event.done / event.total) * 100)}%)`
        this.#write(`… ${event.step} ${amount}${event.message === undefined ? "" : ` ${event.message}`}${this.#eta(event.time)}\n`)
        return
      }
      case "step:end":
        this.#since.delete(event.step)
        this.#lastProgress.delete(event.step)
        this.#complete.delete(event.step)
        return
      case "run:end":
        this.stop()
        return
      default:
        return
    }
  }

  /** No more lines: the run ended, or the reporter closed. */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #arm(ms: number): void {
    this.#timer = this.#clock.setTimeout(() => this.#quiet(), ms)
  }

  #quiet(): void {
    this.#timer = undefined
    const silent = this.#clock.now() - this.#lastWrite
    if (silent < quietMs) return this.#arm(quietMs - silent)
    const now = this.#clock.now() - this.#origin
    const running = this.#ids.filter((id) => this.#since.has(id))
    const named = running.slice(0, namedRunning).map((id) => `${id} (${shortDuration(now - this.#since.get(id)!)})`)
    const more = running.length > namedRunning ? ` and ${running.length - namedRunning} more` : ""
    if (running.length > 0) this.#write(`… still running: ${named.join(", ")}${more}${this.#eta(now)}\n`)
    else this.#lastWrite = this.#clock.now()
    this.#arm(quietMs)
  }

  /** ` · ETA ~12s` at run time `now`, or nothing when no ETA is known. */
  #eta(now: number): string {
    const wall = this.#clock.now()
    if (wall - this.#etaAt < etaEveryMs) return this.#etaText
    this.#etaAt = wall
    const e = this.#forecast.eta(now)
    const text = e === undefined ? undefined : formatEta(e)
    this.#etaText = text === undefined ? "" : ` · ${text}`
    return this.#etaText
  }
}
