/**
 * Every line a run's steps print, kept on disk: `.weft/logs/<run>/<step>.log`,
 * one file per step that logged, each line stamped with its time in the run
 * and its stream:
 *
 * ```
 *    0.031 stdout  checked out v24.21.0
 *    0.054 log     done (2 min in the original pipeline)
 *    0.060 part#0  {"rows":12}
 * ```
 *
 * Step ids can hold `:` and `/`, so files are named by `safeFileName` and
 * `index.json` in the run's folder maps each step id to its file. Lines are
 * buffered per step and written in blocks (a step printing 1 GiB costs a
 * write per {@link LogFilesOptions.bufferBytes}, and that much memory per
 * running step), flushed when the step ends, every second for `tail -f`, and
 * at the end of the run. Each `run:start` opens a new folder, so watch mode's
 * reruns each get theirs; the newest {@link LogFilesOptions.keep} are kept.
 *
 * Writes are synchronous: a reporter cannot make the engine wait, so an
 * asynchronous writer would queue without bound behind a fast step.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { unreachable, type Event } from "../Event.ts"
import { isRunId } from "../history/runId.ts"
import { safeFileName } from "../internal/safeFileName.ts"
import { formatDuration } from "../Summary.ts"
import type { Reporter } from "../Reporter.ts"

export interface LogFilesOptions {
  /** The logs folder (the CLI uses `logs` in weft's folder, `.weft/logs`). */
  readonly dir: string
  /** Run folders kept, the newest (default 20). */
  readonly keep?: number | undefined
  /** A step's lines are written once this many bytes are buffered (default 64 KiB). */
  readonly bufferBytes?: number | undefined
  /** Told once per run when its logs cannot be written (the run goes on). */
  readonly onError?: ((message: string) => void) | undefined
}

/** One step's log file: its name, and the lines not written yet. */
interface StepLog {
  readonly file: string
  fd: number | undefined
  /**
   * The lines not written yet, `used` bytes of it, as bytes rather than
   * strings: held strings outlived a collection or two and were promoted, and
   * 1 GiB of 100-byte lines grew the heap by 100 MB (bench/output.ts).
   * Allocated at a step's first line, dropped when it ends.
   */
  buffer: Buffer | undefined
  used: number
}

/** What the logs folder of the current run holds. */
interface OpenRun {
  readonly id: string
  readonly workflow: string
  readonly folder: string
  readonly steps: Map<string, StepLog>
  failed: boolean
}

/**
 * A reporter that writes each step's `step:log` and `step:partial` lines to
 * its own file under `dir/<run id>/`.
 *
 * @example
 * run(wf, { reporter: tee(plain(), logFiles({ dir: ".weft/logs" })) })
 */
export const logFiles = (options: LogFilesOptions): Reporter => {
  const keep = options.keep ?? 20
  const bufferBytes = options.bufferBytes ?? 64 * 1024
  let current: OpenRun | undefined
  let timer: NodeJS.Timeout | undefined
  let pruning: Promise<void> = Promise.resolve()

  const fail = (run: OpenRun, error: unknown) => {
    if (run.failed) return
    run.failed = true
    options.onError?.(`cannot write the step logs in ${run.folder}: ${(error as Error).message ?? String(error)}; the run goes on without them`)
  }

  const flush = (run: OpenRun, log: StepLog, close: boolean) => {
    if (!run.failed) {
      try {
        if (log.used > 0) {
          log.fd ??= fs.openSync(path.join(run.folder, log.file), "a")
          for (let done = 0; done < log.used;) done += fs.writeSync(log.fd, log.buffer!, done, log.used - done)
        }
        if (close && log.fd !== undefined) {
          fs.closeSync(log.fd)
          log.fd = undefined
        }
      } catch (error) {
        fail(run, error)
      }
    }
    log.used = 0
    if (close) log.buffer = undefined
  }

  /** Appends one line: into the buffer, or, too long for it, straight to the file after what the buffer holds. */
  const writeLine = (run: OpenRun, log: StepLog, prefix: string, line: string) => {
    // At most 3 bytes per UTF-16 unit.
    const most = prefix.length + line.length * 3 + 1
    if (log.used + most > bufferBytes) flush(run, log, false)
    if (run.failed) return
    if (most > bufferBytes) {
      try {
        log.fd ??= fs.openSync(path.join(run.folder, log.file), "a")
        fs.writeSync(log.fd, `${prefix}${line}\n`)
      } catch (error) {
        fail(run, error)
      }
      return
    }
    log.buffer ??= Buffer.allocUnsafe(bufferBytes)
    log.used += log.buffer.write(prefix, log.used, "latin1")
    log.used += log.buffer.write(line, log.used, "utf8")
    log.buffer[log.used++] = 0x0a
  }

  const write = (run: OpenRun, step: string, time: number, tag: string, text: string) => {
    let log = run.steps.get(step)
    if (log === undefined) {
      log = { file: `${safeFileName(step)}.log`, fd: undefined, buffer: undefined, used: 0 }
      run.steps.set(step, log)
    }
    const prefix = `${(time / 1000).toFixed(3).padStart(8)} ${tag.padEnd(7)} `
    if (!text.includes("\n")) return writeLine(run, log, prefix, text)
    for (const line of text.split("\n")) writeLine(run, log, prefix, line)
  }

  const writeIndex = (run: OpenRun) => {
    if (run.failed) return
    const index = { run: run.id, workflow: run.workflow, steps: Object.fromEntries([...run.steps].map(([step, log]) => [step, log.file])) }
    try {
      fs.writeFileSync(path.join(run.folder, indexFile), `${JSON.stringify(index, null, 2)}\n`)
    } catch (error) {
      fail(run, error)
    }
  }

  const open = (id: string, workflow: string): OpenRun => {
    const folder = path.join(options.dir, isRunId(id) ? id : safeFileName(id))
    const run: OpenRun = { id, workflow, folder, steps: new Map(), failed: false }
    try {
      fs.mkdirSync(run.folder, { recursive: true })
    } catch (error) {
      fail(run, error)
    }
    // Written now as well as at the end: it marks the folder as a run's, which is all pruning removes.
    writeIndex(run)
    pruning = pruning.then(() => prune(options.dir, keep, id))
    timer = setInterval(() => {
      for (const log of run.steps.values()) flush(run, log, false)
    }, 1000)
    timer.unref()
    return run
  }

  const end = () => {
    const run = current
    if (run === undefined) return
    current = undefined
    clearInterval(timer)
    for (const log of run.steps.values()) flush(run, log, true)
    writeIndex(run)
  }

  return {
    onEvent: (event: Event) => {
      switch (event.type) {
        case "run:start":
          end()
          current = open(event.run, event.workflow)
          return
        case "step:log":
          if (current !== undefined) write(current, event.step, event.time, event.replayed ? `${event.stream}*` : event.stream, event.text)
          return
        case "step:partial":
          if (current !== undefined) write(current, event.step, event.time, `part#${event.index}`, event.text)
          return
        case "step:retry":
          // The whole reason, which the reporters shorten to a line: a failed command's script and stderr.
          if (current !== undefined) write(current, event.step, event.time, "retry", `attempt ${event.attempt} failed, retrying in ${formatDuration(event.delayMs)}: ${event.reason ?? event.error}`)
          return
        case "step:end": {
          const log = current?.steps.get(event.step)
          if (log !== undefined) flush(current!, log, true)
          return
        }
        case "run:end":
          end()
          return
        case "step:ready":
        case "step:start":
        case "step:progress":
        case "step:waiting":
        case "step:memo":
        case "run:warning":
          return
        default:
          return unreachable(event)
      }
    },
    onEnd: async () => {
      end()
      await pruning
    },
    close: async () => {
      end()
      await pruning
    }
  }
}

/** The logs folder in weft's folder `weftDir`: `.weft/logs`. */
export const logsDir = (weftDir: string): string => path.join(path.resolve(weftDir), "logs")

/** Each run folder's map from step ids to file names; its presence marks the folder as a run's. */
export const indexFile = "index.json"

/**
 * Removes all but the newest `keep` run folders (by name: run ids sort by
 * start time), never `current`. Only folders holding an index go: `dir` may
 * be a folder the user also keeps other things in.
 */
const prune = async (dir: string, keep: number, current: string): Promise<void> => {
  let names: Array<string>
  try {
    const all = (await fs.promises.readdir(dir)).filter((name) => name !== current && !name.startsWith("."))
    const runs = await Promise.all(all.map((name) => fs.promises.stat(path.join(dir, name, indexFile)).then(() => name, () => undefined)))
    names = runs.filter((name) => name !== undefined).sort().reverse()
  } catch {
    return
  }
  // Another weft may be removing the same folders: that is fine.
  await Promise.all(names.slice(Math.max(0, keep - 1)).map((name) => fs.promises.rm(path.join(dir, name), { recursive: true, force: true }).catch(() => {})))
}
