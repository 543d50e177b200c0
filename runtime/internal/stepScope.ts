/**
 * What the code running now belongs to, found through one AsyncLocalStorage:
 * the step whose log its console output goes to (`consoleCapture.ts`), and
 * the memo scope its memoized calls share (`memo.ts`), with the step they are
 * attributed to. Awaited continuations and timers started from a step's code
 * keep both, as AsyncLocalStorage does.
 *
 * One store for both, because entering a store is what costs: Node 24 copies
 * the whole async context frame (a `Map` of every store) when `run` enters
 * and again when it leaves. A step entering two stores paid four copies:
 * 1.7 KB of garbage per step at 100,000 no-op steps (`bench/cold.ts`), the
 * largest single allocation of a step. Entering one field keeps the other.
 */
import { AsyncLocalStorage } from "node:async_hooks"
import type { LogSink } from "./consoleCapture.ts"
import type { MemoScope } from "../MemoScope.ts"

/** The memo scope calls made here use, and the step they are attributed to. */
export interface MemoBinding {
  readonly scope: MemoScope
  readonly step: string | undefined
}

export interface StepScope {
  /** Where `console.*` (and direct writes) made here go; undefined: the real console. */
  readonly sink: LogSink | undefined
  /** undefined: the process-wide default memo scope. */
  readonly memo: MemoBinding | undefined
}

const storage = new AsyncLocalStorage<StepScope>()

/** The scope of the code running now, if any. */
export const currentStepScope = (): StepScope | undefined => storage.getStore()

/** Runs `f` with its output going to `sink` and its memoized calls bound by `memo`, in one entry of the store. */
export const withStepScope = <A>(sink: LogSink | undefined, memo: MemoBinding | undefined, f: () => A): A => storage.run({ sink, memo }, f)

/** Runs `f` with output going to `sink`, memoized calls bound as they are now. */
export const withSink = <A>(sink: LogSink, f: () => A): A => storage.run({ sink, memo: storage.getStore()?.memo }, f)

/** Runs `f` with memoized calls bound by `memo`, output going where it goes now. */
export const withMemo = <A>(memo: MemoBinding, f: () => A): A => storage.run({ sink: storage.getStore()?.sink, memo }, f)
