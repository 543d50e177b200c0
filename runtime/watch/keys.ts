/**
 * Watch mode's keys when no dashboard reads them: from a terminal in raw mode
 * (one key at a time; Ctrl-C arrives as a byte, not a signal), or, from a
 * pipe, the same letters as lines (`echo q`), which is what tools send.
 */
import { createInterface } from "node:readline"

/** A key watch mode acts on. */
export type WatchKey = "r" | "f" | "c" | "q" | "ctrl-c"

/** What a stream of keys needs: `process.stdin`, or a stream a test writes to. */
export type KeySource = NodeJS.ReadableStream & {
  readonly isTTY?: boolean | undefined
  setRawMode?(mode: boolean): unknown
}

/** The keys in a chunk typed on a raw terminal, in order; others are ignored. */
export const keysOf = (chunk: string): Array<WatchKey> =>
  [...chunk].flatMap((char): Array<WatchKey> => {
    if (char === "\x03") return ["ctrl-c"]
    const key = char.toLowerCase()
    return key === "r" || key === "f" || key === "c" || key === "q" ? [key] : []
  })

/** The key a line names (`q`, ` R `), if any. */
export const keyOfLine = (line: string): WatchKey | undefined => {
  const key = line.trim().toLowerCase()
  return key === "r" || key === "f" || key === "c" || key === "q" ? key : undefined
}

/**
 * Reads keys from `source` until the returned function is called, which
 * gives the terminal back as it was (raw mode off). End of input is not a
 * key: `weft watch < /dev/null` goes on watching.
 *
 * @example
 * const stop = readKeys(process.stdin, (key) => key === "q" && session.close())
 */
export const readKeys = (source: KeySource, onKey: (key: WatchKey) => void): (() => void) => {
  if (source.isTTY === true && typeof source.setRawMode === "function") {
    source.setRawMode(true)
    source.setEncoding("utf8")
    const onData = (chunk: string | Buffer) => {
      for (const key of keysOf(String(chunk))) onKey(key)
    }
    source.on("data", onData)
    source.resume()
    // However weft exits, the terminal must not stay raw.
    const restore = () => source.setRawMode?.(false)
    process.once("exit", restore)
    return () => {
      source.off("data", onData)
      restore()
      process.off("exit", restore)
      source.pause()
    }
  }
  const lines = createInterface({ input: source, crlfDelay: Infinity, terminal: false })
  const onLine = (line: string) => {
    const key = keyOfLine(line)
    if (key !== undefined) onKey(key)
  }
  lines.on("line", onLine)
  return () => {
    lines.off("line", onLine)
    lines.close()
    source.pause()
  }
}
