/**
 * The journal stage of the step pipeline, outermost: records every step that
 * ends well in the run journal, with its log lines and streamed parts, and,
 * when resuming, replays a step the resumed run recorded under the same key
 * instead of running it, its output reported again marked `replayed`, as a
 * cache hit's is.
 *
 * A recorded step whose key differs (its definition, its inputs or the files
 * it reads changed) is never replayed: it runs again, and says so. Nor is
 * one whose declared output files differ from what it recorded, unless the
 * cache can put them back (see `outputs.ts`).
 */
import * as Effect from "effect/Effect"
import type { Stage, StepRun } from "../Pipeline.ts"
import { describeError } from "../internal/describeError.ts"
import { captureOutput, replayOutput } from "../internal/stepOutput.ts"
import { deserializeValue, isUnstorableValueError, serializeValue } from "../cache/serialize.ts"
import type { JournalRecord, JournalWriter } from "./Journal.ts"
import { checkOutputs, recordOutputs, type JournalOutputs } from "./outputs.ts"

/** The run being resumed. */
export interface Resumed {
  readonly run: string
  readonly records: ReadonlyMap<string, JournalRecord>
}

/** A run's journal, as the caller opened it (see `openRunJournal`). */
export interface JournalSetup {
  readonly writer: JournalWriter
  /** Set with `--resume` when there is a run to resume. */
  readonly resumed: Resumed | undefined
  /**
   * Where the journal's warnings go from now on (`--resume` found nothing to
   * resume, a write failed); those said before are said to it at once.
   */
  readonly listen: (warn: (message: string) => void) => void
}

/** What the journal stage of one run works with. */
export interface RunJournal extends JournalSetup {
  /** The step's key, as the cache computes it (`keyOf`). */
  readonly keyOf: (step: StepRun) => Promise<string>
  readonly now: () => number
  /** Recording and checking declared output files; without it, a step's outputs are neither recorded nor checked. */
  readonly outputs?: JournalOutputs | undefined
}

export const journaling = (journal: RunJournal): Stage => (step, next) =>
  Effect.gen(function*() {
    const say = (text: string, replayed?: true) =>
      step.report(replayed ? { kind: "log", stream: "stderr", text, replayed } : { kind: "log", stream: "stderr", text })
    const key = yield* Effect.promise(() =>
      journal.keyOf(step).catch((error) => {
        say(`weft: journal: computing the key: ${describeError(error)}; not journaled`)
        return undefined
      })
    )
    if (key === undefined) return yield* next
    const recorded = journal.resumed?.records.get(step.id)
    if (recorded !== undefined) {
      const outputsHold = recorded.key !== key || journal.outputs === undefined
        ? true
        : recorded.outputs === undefined
        ? journal.outputs.globsOf(step).length === 0
        : yield* Effect.promise(() =>
          checkOutputs(journal.outputs!, step, recorded.outputs!, journal.resumed!.run, say).catch((error) => {
            say(`weft: journal: checking the output files of ${step.id}: ${describeError(error)}; running it again`)
            return false
          })
        )
      if (!outputsHold && recorded.outputs === undefined) {
        say(`weft: journal: ${step.id} declares output files its record does not list; running it again`)
      }
      if (recorded.key === key && outputsHold) {
        const value = yield* Effect.sync(() => {
          try {
            return { ok: deserializeValue(Buffer.from(recorded.value, "base64")) }
          } catch (error) {
            say(`weft: journal: cannot read the output recorded for ${step.id}: ${describeError(error)}; running it again`)
            return undefined
          }
        })
        if (value !== undefined) {
          say(`weft: resumed from run ${journal.resumed!.run}`, true)
          replayOutput(step, { logs: recorded.logs ?? [], partials: recorded.partials ?? [] })
          step.cached = { savedMs: recorded.durationMs }
          journal.writer.record(recorded)
          return value.ok
        }
      } else if (recorded.key !== key) {
        say(`weft: journal mismatch for ${step.id}: its definition or inputs changed; running it again`)
      }
    }
    const started = journal.now()
    // Inside it, the cache stage captures too (it chains to this tap): a hit's replayed output is recorded as well.
    const capture = captureOutput(step)
    const value = yield* Effect.ensuring(next, Effect.sync(() => capture.stop("the run journal")))
    const durationMs = step.cached?.savedMs ?? journal.now() - started
    const { logs, partials } = capture.stop("the run journal")
    let outputs: Awaited<ReturnType<typeof recordOutputs>>
    if (journal.outputs !== undefined) {
      const described = yield* Effect.promise(() =>
        recordOutputs(journal.outputs!, step).then((files) => ({ files }), (error) => ({ error: describeError(error) }))
      )
      if ("error" in described) {
        say(`weft: journal: cannot record the output files of ${step.id} (${described.error}); it will run again on resume`)
        return value
      }
      outputs = described.files
    }
    let bytes: Uint8Array
    try {
      bytes = serializeValue(value, { step: step.id })
    } catch (error) {
      const why = isUnstorableValueError(error) ? `${error.path} ${error.reason}` : describeError(error)
      say(`weft: journal: cannot record the output of ${step.id} (${why}); it will run again on resume`)
      return value
    }
    journal.writer.record({
      step: step.id,
      key,
      value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
      durationMs,
      ...(logs.length === 0 ? {} : { logs }),
      ...(partials.length === 0 ? {} : { partials }),
      ...(outputs === undefined ? {} : { outputs })
    })
    return value
  })
