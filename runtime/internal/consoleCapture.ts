/**
 * Routes `console.*` calls made inside a function step to that step's log.
 * The step is found through AsyncLocalStorage (`stepScope.ts`), so concurrent
 * steps (and their awaited continuations) each get their own lines; calls made outside any step
 * go to the real console.
 */
import { formatWithOptions } from "node:util"
import * as Context from "effect/Context"
import * as Fiber from "effect/Fiber"
import type { LogStream } from "../Event.ts"
import type { SafeCut } from "./lineSplitter.ts"
import { currentStepScope, withSink } from "./stepScope.ts"

/** Where a step's output goes; `safeCut` (the redactor's) says where a long line written to it may be cut. */
export type LogSink = ((stream: LogStream, text: string) => void) & { readonly safeCut?: SafeCut | undefined }

const methods = { log: "stdout", info: "stdout", debug: "stdout", warn: "stderr", error: "stderr" } as const
let installs = 0
let originals: Partial<Record<keyof typeof methods, (...args: Array<unknown>) => void>> = {}

/** Formats arguments as `console.log` would, one string per line. */
export const formatLines = (args: ReadonlyArray<unknown>): Array<string> =>
  formatWithOptions({ colors: false }, ...args).split("\n")

/** Patches the console while at least one run is active; returns the undo. */
export const installConsoleCapture = (): (() => void) => {
  if (installs++ === 0) {
    originals = {}
    for (const [method, stream] of Object.entries(methods) as Array<[keyof typeof methods, LogStream]>) {
      const original = console[method]
      originals[method] = original
      console[method] = (...args: Array<unknown>) => {
        const sink = currentStepScope()?.sink
        if (sink === undefined) return original.apply(console, args)
        for (const line of formatLines(args)) sink(stream, line)
      }
    }
  }
  let undone = false
  return () => {
    if (undone) return
    undone = true
    if (--installs === 0) Object.assign(console, originals)
  }
}

/**
 * The sink of an Effect step, provided to its fiber: AsyncLocalStorage does
 * not follow a fiber (it resumes from Effect's scheduler), the fiber's
 * context does.
 */
export const StepSink = Context.Reference<LogSink | undefined>("weft/StepSink", { defaultValue: () => undefined })

/** The sink of the step whose code is running, if any (`writeCapture.ts` routes direct writes by it too). */
export const currentSink = (): LogSink | undefined => currentStepScope()?.sink ?? Fiber.getCurrent()?.getRef(StepSink)

/** Runs `f` with console output attributed to `sink`. */
export const withLogSink = <A>(sink: LogSink, f: () => A): A => withSink(sink, f)

/**
 * A console whose output goes to `sink`: provided as Effect's `Console` to an
 * Effect step, where AsyncLocalStorage cannot follow (fibers resume from
 * Effect's scheduler), so `Console.log` and `Effect.log` land in the step's log.
 */
export const consoleFor = (sink: LogSink): Console => {
  const to = (stream: LogStream) => (...args: Array<unknown>) => {
    for (const line of formatLines(args)) sink(stream, line)
  }
  return Object.assign(Object.create(console) as Console, {
    log: to("stdout"),
    info: to("stdout"),
    debug: to("stdout"),
    trace: to("stderr"),
    warn: to("stderr"),
    error: to("stderr")
  })
}
