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
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import type { Feature, Stage, StepRun } from "../Pipeline.ts"
import { cache } from "../cache/runCache.ts"
import { describeError } from "../internal/describeError.ts"
import { fileChunks } from "../internal/fileChunks.ts"
import { digestFile } from "../internal/outputFile.ts"
import { safeFileName } from "../internal/safeFileName.ts"
import { captureOutput, replayOutput, replaySpilled } from "../internal/stepOutput.ts"
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
  /**
   * The runs folder: a step's output that outgrows a record goes to a file in
   * its run's folder there. Without it, what outgrows a record is not kept.
   */
  readonly dir?: string | undefined
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
  /**
   * Settles when the step may run with its key left to finish
   * (`StepKeys.readyOf`): a step with no record to compare waits for this
   * alone, and its key is awaited when it is recorded. Without it, the key is
   * awaited before the step runs.
   */
  readonly readyOf?: ((step: StepRun) => Promise<void>) | undefined
  readonly now: () => number
  /** Recording and checking declared output files; without it, a step's outputs are neither recorded nor checked. */
  readonly outputs?: JournalOutputs | undefined
}

/**
 * The journal feature, when the run keeps one: its stage keys steps as the
 * cache does (`cache`'s keys), and its warnings are the run's.
 */
export const journal: Feature = {
  name: "journal",
  setup: (run) => {
    const setup = run.options.journal
    const parts = run.use(cache)
    if (setup === undefined) return {}
    setup.listen(run.warn)
    return { stage: journaling({ ...setup, keyOf: parts.keyOf, readyOf: parts.readyOf, now: run.now, outputs: parts.outputs }) }
  }
}

export const journaling = (journal: RunJournal): Stage => (step, next) =>
  Effect.gen(function*() {
    const say = (text: string, replayed?: true) =>
      step.report(replayed ? { type: "step:log", stream: "stderr", text, replayed } : { type: "step:log", stream: "stderr", text })
    const recorded = journal.resumed?.records.get(step.id)
    const notJournaled = (error: unknown) => {
      say(`weft: journal: computing the key: ${describeError(error)}; not journaled`)
      return undefined
    }
    // A record to compare needs the key now. Else only what the key reads
    // from outside must be read before the step runs; the rest (its source
    // digest: a parse on a first run) is finished by the time it is recorded.
    const early = recorded !== undefined || journal.readyOf === undefined
    const key = early
      ? yield* Effect.promise(() => journal.keyOf(step).catch(notJournaled))
      : yield* Effect.promise(() => journal.readyOf!(step).then(() => "later" as const, notJournaled))
    if (key === undefined) return yield* next
    if (recorded !== undefined && key !== "later") {
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
        const output = value === undefined ? undefined : yield* Effect.promise(() => recordedOutput(journal, recorded, say))
        if (value !== undefined && output !== undefined) {
          say(`weft: resumed from run ${journal.resumed!.run}`, true)
          if (output.file === undefined) replayOutput(step, { logs: recorded.logs ?? [], partials: recorded.partials ?? [] })
          else yield* Effect.promise((signal) => replaySpilled(step, fileChunks(output.file!), recorded.output!.skipParts, signal))
          step.cached = { savedMs: recorded.durationMs }
          journal.writer.record(output.record)
          return value.ok
        }
      } else if (recorded.key !== key) {
        say(`weft: journal mismatch for ${step.id}: its definition or inputs changed; running it again`)
      }
    }
    const started = journal.now()
    // Inside it, the cache stage captures too (it chains to this tap): a hit's replayed output is recorded as well.
    const runFolder = journal.dir === undefined || journal.writer.run === "" ? undefined : path.join(journal.dir, journal.writer.run)
    const capture = captureOutput(step, {
      spillTo: runFolder === undefined ? undefined : () => path.join(runFolder, "output", `${safeFileName(step.id)}.${randomBytes(4).toString("hex")}.out`)
    })
    const value = yield* Effect.onError(next, () => Effect.sync(capture.discard))
    const durationMs = step.cached?.savedMs ?? journal.now() - started
    const { logs, partials, spilled } = capture.stop("the run journal")
    const finalKey = key !== "later" ? key : yield* Effect.promise(() => journal.keyOf(step).catch(notJournaled))
    if (finalKey === undefined) {
      capture.discard()
      return value
    }
    // A cache hit hands over what it read and checked: the same files and bytes, without hashing them again.
    const hit = step.cached?.stored
    const stored = hit !== undefined && hit.value === value ? hit : undefined
    let outputs: Awaited<ReturnType<typeof recordOutputs>>
    if (journal.outputs !== undefined && stored !== undefined) {
      outputs = journal.outputs.globsOf(step).length === 0 ? undefined : [...stored.outputs]
    } else if (journal.outputs !== undefined) {
      const described = yield* Effect.promise(() =>
        recordOutputs(journal.outputs!, step).then((files) => ({ files }), (error) => ({ error: describeError(error) }))
      )
      if ("error" in described) {
        capture.discard()
        say(`weft: journal: cannot record the output files of ${step.id} (${described.error}); it will run again on resume`)
        return value
      }
      outputs = described.files
    }
    let bytes: Uint8Array
    try {
      bytes = stored?.valueBytes ?? serializeValue(value, { step: step.id })
    } catch (error) {
      capture.discard()
      const why = isUnstorableValueError(error) ? `${error.path} ${error.reason}` : describeError(error)
      say(`weft: journal: cannot record the output of ${step.id} (${why}); it will run again on resume`)
      return value
    }
    journal.writer.record({
      step: step.id,
      key: finalKey,
      value: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64"),
      durationMs,
      ...(logs.length === 0 ? {} : { logs }),
      ...(partials.length === 0 ? {} : { partials }),
      ...(outputs === undefined ? {} : { outputs }),
      ...(spilled === undefined ? {} : {
        output: { file: path.relative(journal.dir!, spilled.file).split(path.sep).join("/"), digest: spilled.digest, bytes: spilled.bytes, skipParts: spilled.skipParts }
      })
    })
    return value
  })

/**
 * Where `recorded`'s output is, checked, and the record to write for this
 * run: one whose output is a file gets it linked (copied, if need be) into
 * this run's folder, so the record stays good when the older run's folder is
 * pruned. `undefined`, said, when the file is missing or does not match its
 * digest: the step runs again rather than replay a damaged output.
 */
const recordedOutput = async (
  journal: RunJournal,
  recorded: JournalRecord,
  say: (text: string) => void
): Promise<{ readonly file?: string | undefined; readonly record: JournalRecord } | undefined> => {
  const output = recorded.output
  if (output === undefined) return { record: recorded }
  const fail = (why: string) => void say(`weft: journal: cannot replay the output recorded for ${recorded.step} (${why}); running it again`)
  if (journal.dir === undefined) return fail("no runs folder to read it from")
  const file = path.join(journal.dir, ...output.file.split("/"))
  try {
    const found = await digestFile(file)
    if (found.digest !== output.digest || found.bytes !== output.bytes) return fail(`${file} does not match its digest`)
  } catch (error) {
    return fail(describeError(error))
  }
  if (journal.writer.run === "") return { file, record: recorded }
  const relative = `${journal.writer.run}/output/${path.basename(file)}`
  const target = path.join(journal.dir, ...relative.split("/"))
  try {
    await fs.promises.mkdir(path.dirname(target), { recursive: true })
    await fs.promises.link(file, target).catch(() => fs.promises.copyFile(file, target))
  } catch {
    // Replayed all the same; the record keeps pointing at the older run.
    return { file, record: recorded }
  }
  return { file: target, record: { ...recorded, output: { ...output, file: relative } } }
}
