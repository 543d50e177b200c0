/**
 * Which step's code touched which file, for function steps that run in this
 * process: while `attributeFs` lasts, the public `node:fs` and
 * `node:fs/promises` functions that read or write a file's contents are
 * wrapped to tell `record` the path, the access and the step whose code made
 * the call (an AsyncLocalStorage entered around each step's function, so
 * awaited continuations and timers it started count as its own). Named and
 * namespace ESM imports of `node:fs` see the wrappers too: Node copies the
 * CommonJS exports to them on `syncBuiltinESMExports()`.
 *
 * What counts, as for commands (`straceLog.ts`): reading a file's contents,
 * writing, appending, truncating, copying, renaming, linking or removing it.
 * `stat`, `exists`, `access` and `readdir` do not: probes, not uses.
 * A call made from code outside any step (weft's own) is not recorded.
 */
import { AsyncLocalStorage } from "node:async_hooks"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import fs from "node:fs"
import { syncBuiltinESMExports } from "node:module"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Access } from "./Accesses.ts"

const currentStep = new AsyncLocalStorage<string>()

/** Runs `f` as the code of step `id`: what it does to files is attributed to it. */
export const asStep = <A>(id: string, f: () => A): A => currentStep.run(id, f)

/**
 * The step whose Effect a fiber runs. A function that returns an Effect has
 * its code run later, in fibers, and a fiber runs in whatever async context
 * the scheduler's turn began in (another step's, as often as not): there the
 * fiber's own context says whose code it is. Forked fibers inherit it.
 */
const FiberStep = Context.Reference<string | undefined>("weft/verify/FiberStep", { defaultValue: () => undefined })

/** Runs `effect` as the code of step `id`, in every fiber it runs in. */
export const asStepEffect = <A, E, R>(id: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.provideService(effect, FiberStep, id)

/** Whose code is running: the fiber's step when inside one that has it, else the async context's. */
const stepNow = (): string | undefined => Fiber.getCurrent()?.getRef(FiberStep) ?? currentStep.getStore()

export type Recorder = (step: string, access: Access, absolute: string) => void

/** How each wrapped function's path arguments are used, by position. */
type Use = ReadonlyArray<Access | "open" | undefined>

const read: Use = ["read"]
const write: Use = ["write"]
const remove: Use = ["remove"]
const copy: Use = ["read", "write"]
const rename: Use = ["remove", "write"]
const link: Use = [undefined, "write"]
const open: Use = ["open"]

/** On `node:fs`, sync and callback forms (`readFileSync` and `readFile` share a use). */
const fsUses: Record<string, Use> = {
  readFile: read, createReadStream: read,
  writeFile: write, appendFile: write, createWriteStream: write, truncate: write,
  open,
  unlink: remove, rm: remove,
  copyFile: copy, cp: copy,
  rename,
  link, symlink: link
}
const promisesUses: Record<string, Use> = {
  readFile: read, writeFile: write, appendFile: write, truncate: write, open,
  unlink: remove, rm: remove, copyFile: copy, cp: copy, rename, link, symlink: link
}

const pathOf = (arg: unknown): string | undefined => {
  if (typeof arg === "string") return path.resolve(arg)
  if (Buffer.isBuffer(arg)) return path.resolve(arg.toString("utf8"))
  if (arg instanceof URL && arg.protocol === "file:") return fileURLToPath(arg)
  return undefined
}

const writeBits = fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_APPEND

/** `open`'s flags: "r" (the default) reads; "w", "a" or "+" write; numbers by their bits. */
const openAccess = (flags: unknown): Access =>
  typeof flags === "number" ? ((flags & writeBits) !== 0 ? "write" : "read") : typeof flags === "string" && /[wa+]/.test(flags) ? "write" : "read"

const wrap = (original: (...args: Array<unknown>) => unknown, use: Use, record: Recorder) =>
  function(this: unknown, ...args: Array<unknown>): unknown {
    const step = stepNow()
    if (step !== undefined) {
      use.forEach((how, i) => {
        const file = pathOf(args[i])
        if (how === undefined || file === undefined) return
        record(step, how === "open" ? openAccess(args[i + 1]) : how, file)
      })
    }
    return original.apply(this, args)
  }

/**
 * Wraps the fs functions to record what steps entered with `asStep` do, and
 * returns what puts them back: call it in a `finally`. Not reentrant: one
 * traced run at a time.
 */
export const attributeFs = (record: Recorder): (() => void) => {
  const restores: Array<() => void> = []
  const patch = (target: Record<string, unknown>, name: string, use: Use) => {
    const original = target[name]
    if (typeof original !== "function") return
    target[name] = wrap(original as (...args: Array<unknown>) => unknown, use, record)
    restores.push(() => void (target[name] = original))
  }
  const target = fs as unknown as Record<string, unknown>
  for (const [name, use] of Object.entries(fsUses)) {
    patch(target, name, use)
    patch(target, `${name}Sync`, use)
  }
  for (const [name, use] of Object.entries(promisesUses)) patch(fs.promises as unknown as Record<string, unknown>, name, use)
  syncBuiltinESMExports()
  return () => {
    for (const restore of restores.splice(0).reverse()) restore()
    syncBuiltinESMExports()
  }
}
