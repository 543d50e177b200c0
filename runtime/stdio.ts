/**
 * weft's own way to the terminal: the streams' `write` as they were before
 * a run's capture (`writeCapture.ts`) patched them. Apart from the capture,
 * and light on purpose: the command line writes its first line (the
 * dashboard's loading line) through it before the engine has loaded.
 */

export type Stream = "stdout" | "stderr"
export type WriteFn = NodeJS.WriteStream["write"]

/** The streams' `write` before the patch, and whether it was their own property (else inherited, restored by deleting ours). */
export const saved: { current: Partial<Record<Stream, { readonly write: WriteFn; readonly own: boolean }>> } = { current: {} }

/** Writes `text` to the real stdout, never to a step's log. */
export const writeStdout = (text: string): void => void (saved.current.stdout?.write ?? process.stdout.write).call(process.stdout, text)

/** Writes `text` to the real stderr, never to a step's log. */
export const writeStderr = (text: string): void => void (saved.current.stderr?.write ?? process.stderr.write).call(process.stderr, text)

/**
 * `process.stdout` as weft draws on it: the same stream (its size, its
 * `resize` events, `isTTY`) whose `write` is always the real one. For Ink,
 * which writes frames with `stdout.write`.
 */
export const unpatchedStdout = (): NodeJS.WriteStream =>
  new Proxy(process.stdout, {
    get: (target, key) => {
      if (key === "write") return (...args: Parameters<WriteFn>) => (saved.current.stdout?.write ?? target.write).apply(target, args)
      const value: unknown = Reflect.get(target, key, target)
      return typeof value === "function" ? value.bind(target) : value
    }
  })
