/**
 * A terminal for tests: a stdout of a chosen size that keeps every write (in
 * Ink's debug mode, every frame whole), and a stdin that types keys. Not a
 * TTY on the output side, so Ink adds no cursor codes of its own; a TTY on
 * the input side, so keys are read in raw mode as on a real terminal.
 */
import { EventEmitter } from "node:events"

export class FakeStdout extends EventEmitter {
  readonly writes: Array<string> = []
  columns: number
  rows: number

  constructor(columns = 80, rows = 24) {
    super()
    this.columns = columns
    this.rows = rows
  }

  write = (text: string, callback?: () => void): boolean => {
    this.writes.push(text)
    // Ink waits for its last write's callback before it calls itself unmounted.
    if (typeof callback === "function") queueMicrotask(callback)
    return true
  }

  /** The newest whole frame (the last write that is not blank). */
  lastFrame(): string {
    for (let i = this.writes.length - 1; i >= 0; i--) if (this.writes[i]!.trim() !== "") return this.writes[i]!
    return ""
  }

  /** A terminal resize, as Node reports one. */
  resize(columns: number, rows: number): void {
    this.columns = columns
    this.rows = rows
    this.emit("resize")
  }
}

export class FakeStdin extends EventEmitter {
  readonly isTTY = true
  #pending: string | null = null

  /** Types `text` (one key, or an escape sequence like `\u001B[A`). */
  type = (text: string): void => {
    this.#pending = text
    this.emit("readable")
  }

  read = (): string | null => {
    const text = this.#pending
    this.#pending = null
    return text
  }

  setEncoding(): this {
    return this
  }
  setRawMode(): this {
    return this
  }
  resume(): this {
    return this
  }
  pause(): this {
    return this
  }
  ref(): this {
    return this
  }
  unref(): this {
    return this
  }
}

/** Key sequences as a terminal sends them. */
export const keys = {
  up: "\u001B[A",
  down: "\u001B[B",
  enter: "\r",
  pageUp: "\u001B[5~",
  pageDown: "\u001B[6~",
  ctrlC: "\u0003"
} as const
