/**
 * A function step that returns an `AsyncIterable` (an async generator, say)
 * or an Effect `Stream` streams its result: each item is emitted as a part
 * the moment it arrives, and the step's output is the array of items.
 *
 * Interrupting the step (timeout, fail-fast, Ctrl-C) stops the iteration: the
 * iterator is closed, so an async generator's `finally` blocks run.
 */
import * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"

/** `Stream.TypeId`, checked by hand: importing `effect/Stream` costs ~12 ms at start-up, paid by runs that never stream. */
const streamTypeId = "~effect/Stream"

const isAsyncIterable = (u: unknown): u is AsyncIterable<unknown> =>
  typeof (u as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function"

const isStream = (u: unknown): u is Stream.Stream<unknown, unknown> => streamTypeId in (u as object)

/** Whether a step's value is to be streamed rather than returned as it is. */
export const isStreaming = (u: unknown): boolean => typeof u === "object" && u !== null && (isStream(u) || isAsyncIterable(u))

/** Runs the step's own code (a generator's body) where it sees its console and memo scope. */
export type Within = <A>(f: () => A) => A

/** Emits each item of `value` (see `isStreaming`) through `emit`, and succeeds with them all. */
export const collect = (value: unknown, emit: (item: unknown) => void, within: Within): Effect.Effect<Array<unknown>, unknown> =>
  isStream(value) ? collectStream(value, emit) : collectIterable(value as AsyncIterable<unknown>, emit, within)

const collectIterable = (iterable: AsyncIterable<unknown>, emit: (item: unknown) => void, within: Within) =>
  Effect.suspend(() => {
    const iterator = within(() => iterable[Symbol.asyncIterator]())
    // Closing is best effort: an iterator whose `return` throws has nothing more to give.
    const close = async () => {
      try {
        await within(() => iterator.return!())
      } catch {}
    }
    const items: Array<unknown> = []
    let pulling = false
    const next = Effect.tryPromise({
      try: () => {
        pulling = true
        return within(() => iterator.next()).finally(() => (pulling = false))
      },
      catch: (error) => error
    })
    const loop = Effect.gen(function*() {
      for (;;) {
        const result = yield* next
        if (result.done === true) return items
        items.push(result.value)
        emit(result.value)
      }
    })
    // Interrupted (or failed while showing a part): close the iterator, so its
    // `finally` runs. An async generator's `return()` waits for a pending
    // `next()` to settle: while one is pending, closing is queued (the step's
    // aborted signal is what ends that wait), so Ctrl-C never hangs on a
    // generator that ignores it.
    return Effect.onError(loop, () =>
      iterator.return === undefined
        ? Effect.void
        : pulling
        ? Effect.sync(() => void close())
        : Effect.promise(close))
  })

const collectStream = (stream: Stream.Stream<unknown, unknown>, emit: (item: unknown) => void) =>
  Effect.flatMap(
    // Already loaded by whoever made the stream: this only looks it up.
    Effect.promise(() => import("effect/Stream")),
    (S) =>
      Effect.suspend(() => {
        const items: Array<unknown> = []
        const each = S.runForEachArray(stream, (chunk) =>
          Effect.sync(() => {
            for (const item of chunk) {
              items.push(item)
              emit(item)
            }
          }))
        return Effect.as(each, items)
      })
  )
