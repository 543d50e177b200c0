import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { watch as chokidarWatch } from "chokidar"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { patternsOf } from "./globs.ts"
import { makeWatcher, rootsOf, type FileChange, type FileWatcher, type Watcher } from "./Watcher.ts"

const made: Array<string> = []
const folder = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-watcher-"))
  made.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})
const open: Array<Watcher> = []
afterEach(async () => {
  for (const watcher of open.splice(0)) await watcher.close()
})
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const start = (debounceMs: number, factory?: Parameters<typeof makeWatcher>[0]["factory"]) => {
  const batches: Array<ReadonlyArray<FileChange>> = []
  const warnings: Array<string> = []
  const watchers: Array<FileWatcher> = []
  const watcher = makeWatcher({
    debounceMs,
    onChange: (batch) => batches.push(batch),
    onWarning: (message) => warnings.push(message),
    factory: (paths, options) => {
      const w = (factory ?? chokidarWatch)(paths, options)
      watchers.push(w)
      return w
    }
  })
  open.push(watcher)
  return { watcher, batches, warnings, watchers }
}

describe("makeWatcher", () => {
  it("coalesces a burst into one batch of distinct paths", async () => {
    const dir = folder()
    const { watcher, batches } = start(40)
    await watcher.watch({ patterns: patternsOf(dir, "*.txt"), ignored: [] })
    for (let round = 0; round < 3; round++) for (const name of ["a", "b", "c"]) writeFileSync(path.join(dir, `${name}.txt`), String(round))
    await sleep(250)
    expect(batches).toHaveLength(1)
    expect(batches[0]!.map((c) => path.basename(c.path)).sort()).toEqual(["a.txt", "b.txt", "c.txt"])
  })

  it("hands over a burst that never settles once the maximum wait has passed, and keeps going", async () => {
    const dir = folder()
    let emit: (event: string, file: string) => void = () => {}
    const fake = (_paths: Array<string>, _options: unknown): FileWatcher => {
      const listeners: Record<string, (...args: Array<never>) => void> = {}
      const watcher: FileWatcher = {
        on: (event: string, listener: (...args: Array<never>) => void) => {
          listeners[event] = listener
          if (event === "ready") setTimeout(listener, 0)
          return watcher
        },
        close: async () => {}
      } as FileWatcher
      emit = (event, file) => (listeners.all as (e: string, f: string) => void)(event, file)
      return watcher
    }
    const batches: Array<{ at: number; files: number }> = []
    const watcher = makeWatcher({ debounceMs: 50, maxWaitMs: 200, onChange: (b) => batches.push({ at: Date.now(), files: b.length }), onWarning: () => {}, factory: fake })
    open.push(watcher)
    await watcher.watch({ patterns: patternsOf(dir, "*.txt"), ignored: [] })
    const started = Date.now()
    // A write every 20 ms for 700 ms: never 50 ms of quiet.
    for (let i = 0; Date.now() - started < 700; i++) {
      emit("change", path.join(dir, `f${i % 5}.txt`))
      await sleep(20)
    }
    const streaming = batches.filter((b) => b.at - started < 700)
    expect(streaming.length).toBeGreaterThanOrEqual(2)
    expect(streaming[0]!.at - started).toBeLessThan(400)
    await sleep(150)
    expect(batches.reduce((n, b) => n + b.files, 0)).toBeGreaterThan(streaming.length)
  })

  it("does not lose a second save inside chokidar's 50 ms window, where chokidar drops it", async () => {
    const dir = folder()
    writeFileSync(path.join(dir, "a.txt"), "0")
    const { watcher, batches } = start(5)
    await watcher.watch({ patterns: patternsOf(dir, "a.txt"), ignored: [] })
    writeFileSync(path.join(dir, "a.txt"), "1")
    await sleep(25)
    const second = Date.now()
    writeFileSync(path.join(dir, "a.txt"), "22")
    await sleep(250)
    // The last batch came after the second save: whoever reads the file then sees "22".
    expect(batches.length).toBeGreaterThanOrEqual(2)
    expect(batches.at(-1)![0]!.time).toBeGreaterThanOrEqual(second)
  })

  it("hands chokidar the patterns' base folders (or the nearest that exist) and keeps it out of folders no pattern reaches", async () => {
    const dir = folder()
    for (const sub of ["src/deep", "docs/big", "node_modules/x"]) mkdirSync(path.join(dir, sub), { recursive: true })
    const target = { patterns: [...patternsOf(dir, "src/**/*.ts"), ...patternsOf(dir, "gen/**"), ...patternsOf(dir, "weft.ts")], ignored: [] }
    expect(rootsOf(target)).toEqual([dir])
    expect(rootsOf({ patterns: patternsOf(dir, "src/**/*.ts"), ignored: [] })).toEqual([path.join(dir, "src")])
    const { watcher, watchers } = start(10)
    await watcher.watch(target)
    const watched = Object.keys(watchers[0]!.getWatched!())
    expect(watched).toContain(path.join(dir, "src/deep"))
    expect(watched.some((folder) => folder.startsWith(path.join(dir, "docs")) || folder.includes("node_modules"))).toBe(false)
  })

  it("reports other watcher errors once and goes on", async () => {
    const dir = folder()
    const { watcher, warnings, watchers, batches } = start(10)
    await watcher.watch({ patterns: patternsOf(dir, "*.txt"), ignored: [] })
    const failing = watchers[0] as unknown as { emit: (event: string, error: Error) => void }
    failing.emit("error", new Error("EACCES: permission denied, watch 'x'"))
    failing.emit("error", new Error("EACCES: permission denied, watch 'x'"))
    expect(warnings).toEqual(["the file watcher reported: EACCES: permission denied, watch 'x'; still watching"])
    writeFileSync(path.join(dir, "a.txt"), "1")
    await sleep(150)
    expect(batches).toHaveLength(1)
  })
})
