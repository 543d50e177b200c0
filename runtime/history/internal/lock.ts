/**
 * A lock between processes on one file: `<file>.lock`, created exclusively.
 * A lock older than `staleMs` belongs to a process that died holding it and is
 * broken. Used to make read-modify-write of small shared files safe.
 */
import * as fs from "node:fs/promises"

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const isErrno = (error: unknown, code: string): boolean =>
  typeof error === "object" && error !== null && (error as NodeJS.ErrnoException).code === code

/** Runs `f` holding the lock on `file`; gives up waiting after `waitMs` and throws. */
export const withFileLock = async <A>(
  file: string,
  f: () => Promise<A>,
  options: { readonly waitMs?: number; readonly staleMs?: number } = {}
): Promise<A> => {
  const lock = `${file}.lock`
  const waitMs = options.waitMs ?? 5000
  const staleMs = options.staleMs ?? 10_000
  const deadline = Date.now() + waitMs
  for (let delay = 2; ; delay = Math.min(delay * 2, 50)) {
    try {
      await (await fs.open(lock, "wx")).close()
      break
    } catch (error) {
      if (!isErrno(error, "EEXIST")) throw error
      const stat = await fs.stat(lock).catch(() => undefined)
      if (stat !== undefined && Date.now() - stat.mtimeMs > staleMs) {
        await fs.rm(lock, { force: true })
        continue
      }
      if (Date.now() > deadline) throw new Error(`${lock} is held by another weft process`)
      await sleep(delay)
    }
  }
  try {
    return await f()
  } finally {
    await fs.rm(lock, { force: true })
  }
}
