/**
 * Runs code with the process in a folder, one caller at a time. A function
 * step that writes `data.txt` means its workflow's folder, and only the
 * process's working folder can point such relative paths at a throwaway
 * copy. The working folder belongs to the whole process, so two `verify`
 * calls at once (vitest's concurrent tests, two workflows verified with
 * `Promise.all`) would each run steps in the other's copy: each holder waits
 * for the one before, and their runs take turns instead.
 */

let last: Promise<unknown> = Promise.resolve()

/** Calls `f` with the process in `dir`, after every earlier caller has finished, and puts the process back after. */
export const inFolder = <A>(dir: string, f: () => Promise<A>): Promise<A> => {
  const turn = last.then(async () => {
    const home = process.cwd()
    process.chdir(dir)
    try {
      return await f()
    } finally {
      process.chdir(home)
    }
  })
  // The next caller waits for this one to end, however it ends.
  last = turn.catch(() => undefined)
  return turn
}
