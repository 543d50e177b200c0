/**
 * The file watcher of watch mode: chokidar on the folders the patterns start
 * from, pruned to what the patterns can match, with bursts coalesced.
 *
 * ```
 *              watch(target)                     ENOSPC / EMFILE
 *   idle ──────────────────────▶ native ──────────────────────────▶ polling
 *                                 │  ▲                                │  ▲
 *                                 └──┘ watch(target): a new           └──┘ watch(target)
 *                                      instance, ready, then the
 *                                      old one closed (no gap)
 *   any ──── close() ────▶ closed
 * ```
 *
 * - Debounce: each relevant event (re)starts a timer of `debounceMs`; when it
 *   fires, every path seen since is handed over at once (`onChange`), each
 *   with the time of its first event. Hundreds of writes make one batch. A
 *   burst that never settles (a generator writing all the time) is handed
 *   over anyway once `maxWaitMs` has passed since its first event, so watch
 *   mode never goes quiet while files change.
 * - No change is missed: chokidar drops a path's `change` events for 50 ms
 *   after one (and its raw events for 5 ms), without a trailing event, so a
 *   second save right after a first went unseen. Each reported path is
 *   stat'ed when its event arrives and again once that window has passed;
 *   if it differs, that is another change.
 * - Only file events count (`add`, `change`, `unlink`): an atomic save
 *   (write elsewhere, rename over) is a `change` or an `unlink` + `add` of the
 *   same path, a deleted and re-created file likewise, and a new file that a
 *   glob matches is an `add` in a watched folder.
 * - Never watched: `.weft/`, `node_modules/`, `.git/` (unless a pattern names
 *   them), the `ignored` patterns (steps' declared outputs), and folders no
 *   pattern can match below.
 * - ENOSPC (the inotify watch limit) or EMFILE: say so with the fix, and go
 *   on polling; any other watcher error is reported once and watching goes
 *   on. Watching never silently stops.
 */
import { statSync, type Stats } from "node:fs"
import * as path from "node:path"
import { watch as chokidarWatch, type ChokidarOptions } from "chokidar"
import { coversFolder, matchesAny, mayContain, type WatchPattern } from "./globs.ts"

/** What to watch. */
export interface WatchTarget {
  /** Files to report: steps' inputs and the workflow's modules. */
  readonly patterns: ReadonlyArray<WatchPattern>
  /** Files never to report, even when a pattern matches them: steps' declared outputs. */
  readonly ignored: ReadonlyArray<WatchPattern>
}

/** A changed file: its absolute path and when its first event of the batch arrived (epoch ms). */
export interface FileChange {
  readonly path: string
  readonly time: number
}

/** The part of chokidar's `FSWatcher` weft uses. */
export interface FileWatcher {
  on(event: "all", listener: (event: string, path: string) => void): unknown
  on(event: "ready", listener: () => void): unknown
  on(event: "error", listener: (error: unknown) => void): unknown
  close(): Promise<void>
  getWatched?(): Record<string, Array<string>>
}

/** Makes a watcher: chokidar's `watch` unless a test injects another. */
export type WatchFactory = (paths: Array<string>, options: ChokidarOptions) => FileWatcher

/** How the watcher is watching now. */
export interface WatchStatus {
  /** Files watched that the patterns match. */
  readonly files: number
  readonly polling: boolean
}

export interface WatcherOptions {
  /** Quiet time that ends a burst (ms). */
  readonly debounceMs: number
  /** The longest a burst is held before it is handed over, settled or not (ms; default 20 × `debounceMs`, at least 1 s). */
  readonly maxWaitMs?: number | undefined
  /** A burst settled: the files it changed. */
  readonly onChange: (changes: ReadonlyArray<FileChange>) => void
  /** Something the user should know: the polling fallback and its fix, a watcher error. */
  readonly onWarning: (message: string) => void
  /** A new watcher instance is ready (after `watch`, or after falling back to polling). */
  readonly onReady?: ((status: WatchStatus) => void) | undefined
  readonly factory?: WatchFactory | undefined
  /** Poll from the start (default: only after ENOSPC/EMFILE). */
  readonly usePolling?: boolean | undefined
  /** Polling interval (ms, default 100). */
  readonly pollIntervalMs?: number | undefined
  readonly now?: (() => number) | undefined
}

export interface Watcher {
  /** Watches `target` from now on, instead of what was watched; resolves once the new watcher is ready. */
  readonly watch: (target: WatchTarget) => Promise<WatchStatus>
  /** Stops watching and drops a pending burst. */
  readonly close: () => Promise<void>
}

/** What the user reads when the watch limit is reached. */
export const limitMessage = (code: string): string =>
  code === "ENOSPC"
    ? "the system limit on watched files (inotify) is reached: weft falls back to polling, which is slower and uses more CPU. " +
      "Raise the limit with `sudo sysctl fs.inotify.max_user_watches=524288` (add fs.inotify.max_user_watches=524288 to /etc/sysctl.conf to keep it)"
    : "too many open files for the file watcher: weft falls back to polling, which is slower and uses more CPU. " +
      "Raise the limit with `ulimit -n 65536` in the shell that starts weft"

const relevant = (target: WatchTarget, abs: string): boolean =>
  matchesAny(target.patterns, abs) && !matchesAny(target.ignored, abs)

/** Whether chokidar should leave `abs` alone: a file no pattern reports, a folder no pattern reaches. */
const skip = (target: WatchTarget, abs: string, stats: Stats | undefined): boolean => {
  const folderWanted = () => target.patterns.some((p) => mayContain(p, abs)) && !target.ignored.some((p) => coversFolder(p, abs))
  if (stats?.isDirectory()) return !folderWanted()
  if (stats !== undefined) return !relevant(target, abs)
  return !relevant(target, abs) && !folderWanted()
}

/** The nearest existing folder at or above `dir`. */
const existingFolder = (dir: string): string => {
  for (let at = dir; ; at = path.dirname(at)) {
    try {
      if (statSync(at).isDirectory()) return at
    } catch {}
    if (path.dirname(at) === at) return at
  }
}

/** The folders to hand chokidar: where each pattern starts (or the nearest that exists), nested ones dropped. */
export const rootsOf = (target: WatchTarget): Array<string> => {
  const folders = [...new Set(target.patterns.map((p) => existingFolder(p.glob === "" ? path.dirname(p.base) : p.base)))].sort()
  return folders.filter((dir) => !folders.some((other) => other !== dir && dir.startsWith(other.endsWith(path.sep) ? other : other + path.sep)))
}

const countFiles = (watcher: FileWatcher, target: WatchTarget): number => {
  let files = 0
  for (const [dir, names] of Object.entries(watcher.getWatched?.() ?? {})) {
    for (const name of names) if (relevant(target, path.join(dir, name))) files++
  }
  return files
}

/** Past chokidar's 50 ms window in which it drops further `change` events of a path. */
const recheckAfterMs = 60

/** What tells one version of a file from another: size, times to the nanosecond, inode. */
const versionOf = (abs: string): string => {
  try {
    const stat = statSync(abs, { bigint: true })
    return `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}`
  } catch {
    return "missing"
  }
}

const defaultFactory: WatchFactory = (paths, options) => chokidarWatch(paths, options)

/**
 * Starts a watcher that watches nothing until `watch(target)`.
 *
 * @example
 * const watcher = makeWatcher({ debounceMs: 50, onChange: (files) => rerun(files), onWarning: say })
 * await watcher.watch({ patterns: patternsOf(root, "src/**\/*.ts"), ignored: [] })
 */
export const makeWatcher = (options: WatcherOptions): Watcher => {
  const factory = options.factory ?? defaultFactory
  const now = options.now ?? Date.now
  let polling = options.usePolling === true
  let closed = false
  let target: WatchTarget = { patterns: [], ignored: [] }
  let current: FileWatcher | undefined
  let pending = new Map<string, number>()
  let timer: ReturnType<typeof setTimeout> | undefined
  const maxWaitMs = options.maxWaitMs ?? Math.max(1000, 20 * options.debounceMs)
  /** When the pending burst's first event came (epoch ms). */
  let burstStart = 0
  const rechecks = new Map<string, ReturnType<typeof setTimeout>>()
  const warned = new Set<string>()
  // One change of instance at a time: `watch` calls and the polling fallback.
  let queue: Promise<unknown> = Promise.resolve()
  const serially = <A>(task: () => Promise<A>): Promise<A> => {
    const result = queue.then(task)
    queue = result.catch(() => {})
    return result
  }

  const flush = () => {
    timer = undefined
    if (closed || pending.size === 0) return
    const batch = [...pending].map(([file, time]) => ({ path: file, time }))
    pending = new Map()
    options.onChange(batch)
  }

  const onEvent = (event: string, file: string) => {
    if (closed || (event !== "add" && event !== "change" && event !== "unlink")) return
    const abs = path.resolve(file)
    if (!relevant(target, abs)) return
    const at = now()
    if (pending.size === 0) burstStart = at
    if (!pending.has(abs)) pending.set(abs, at)
    clearTimeout(timer)
    timer = setTimeout(flush, Math.max(0, Math.min(options.debounceMs, burstStart + maxWaitMs - at)))
    const seen = versionOf(abs)
    clearTimeout(rechecks.get(abs))
    rechecks.set(abs, setTimeout(() => {
      rechecks.delete(abs)
      if (versionOf(abs) !== seen) onEvent("change", abs)
    }, recheckAfterMs))
  }

  const open = (watched: WatchTarget): Promise<FileWatcher> =>
    new Promise((resolve) => {
      const instance = factory(rootsOf(watched), {
        ignoreInitial: true,
        ignored: (file: string, stats?: Stats) => skip(target, path.resolve(file), stats),
        usePolling: polling,
        interval: options.pollIntervalMs ?? 100,
        binaryInterval: options.pollIntervalMs ?? 100,
        persistent: true
      })
      instance.on("all", onEvent)
      instance.on("error", (error) => onError(instance, error))
      instance.on("ready", () => resolve(instance))
    })

  const replace = async (watched: WatchTarget): Promise<WatchStatus> => {
    const previous = current
    const next = await open(watched)
    if (closed) {
      await next.close()
      return { files: 0, polling }
    }
    current = next
    await previous?.close()
    const status = { files: countFiles(next, watched), polling }
    options.onReady?.(status)
    return status
  }

  const onError = (instance: FileWatcher, error: unknown) => {
    const code = (error as { code?: unknown })?.code
    if ((code === "ENOSPC" || code === "EMFILE") && !polling) {
      polling = true
      options.onWarning(limitMessage(code))
      void serially(async () => {
        if (current === instance) current = undefined
        await instance.close()
        if (!closed) await replace(target)
      })
      return
    }
    const message = `the file watcher reported: ${error instanceof Error ? error.message : String(error)}; still watching`
    if (!warned.has(message)) {
      warned.add(message)
      options.onWarning(message)
    }
  }

  return {
    watch: (watched) =>
      serially(() => {
        target = watched
        return replace(watched)
      }),
    close: async () => {
      closed = true
      clearTimeout(timer)
      for (const recheck of rechecks.values()) clearTimeout(recheck)
      rechecks.clear()
      pending.clear()
      await serially(async () => {
        await current?.close()
        current = undefined
      })
    }
  }
}
