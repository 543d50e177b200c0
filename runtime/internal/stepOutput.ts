/**
 * What a step printed and streamed, kept to be replayed later: by the cache
 * on a hit, by the run journal on `--resume`. Both keep it the same way, so a
 * replayed step looks the same whichever replayed it.
 *
 * Memory is bounded in bytes, not lines: up to {@link outputMemoryBytes} of
 * text is kept in memory (and stored inline: the cache entry, the journal
 * line); past that, everything goes to a file (see `outputFile.ts`), which
 * the cache stores as a blob and the journal keeps beside itself, and which a
 * replay reads back a block at a time. A step printing 1 GiB of 64 KiB lines
 * once failed here, building one string of it ("Invalid string length").
 * Every line is kept and replayed: a hit looks like the run it saves.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { LogStream } from "../Event.ts"
import type { Feature, StepRun } from "../Pipeline.ts"
import type { StepReport } from "../StepReport.ts"
import { openOutputFile, readOutputRecords, type OutputFileWriter } from "./outputFile.ts"

/** A step's log lines and streamed parts, as kept. */
export interface StepOutput {
  readonly logs: ReadonlyArray<{ readonly stream: LogStream; readonly text: string }>
  /**
   * The parts the step streamed (`step:partial`): each part's text, and how
   * many of `logs` came before it, so a replay interleaves them as they were.
   */
  readonly partials: ReadonlyArray<{ readonly text: string; readonly afterLogs: number }>
  /** Set when the output outgrew memory: all of it is in this file instead, and `logs` and `partials` are empty. */
  readonly spilled?: SpilledOutput | undefined
}

/** A step's output kept in a file (`outputFile.ts`). */
export interface SpilledOutput {
  readonly file: string
  /** SHA-256 of the file, hex: a replay checks it first. */
  readonly digest: string
  readonly bytes: number
  /** Streamed parts at the start of the file that earlier attempts streamed: not the result's, not replayed. */
  readonly skipParts: number
}

/** Bytes of text kept in memory per capture before it goes to a file (default 1 MiB; `WEFT_OUTPUT_MEMORY_BYTES` sets it, for tests). */
export const outputMemoryBytes = (): number => {
  const set = Number(process.env.WEFT_OUTPUT_MEMORY_BYTES)
  return Number.isSafeInteger(set) && set >= 0 ? set : 1024 * 1024
}

/** What a line costs in memory besides its text: the object and the array slot. */
const lineOverhead = 32

/** How a capture keeps what outgrows memory. */
export interface CaptureOptions {
  /**
   * A new file's path, asked once, when the output outgrows memory; its
   * folder is created. Without it, what does not fit is not kept (a last line
   * says how much).
   */
  readonly spillTo?: (() => string) | undefined
  /** Default {@link outputMemoryBytes}. */
  readonly memoryBytes?: number | undefined
}

/** A capture under way (see `captureOutput`). */
export interface OutputCapture {
  /**
   * Stops capturing (the taps that were set before are set again) and
   * returns what was kept; what was not is told in a last log line naming
   * `where` ("the cache").
   */
  readonly stop: (where: string) => StepOutput
  /** Stops, and removes the file the output went to, if any: it is not needed (the step failed, or its bytes were copied). */
  readonly discard: () => void
}

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`

declare module "../Pipeline.ts" {
  interface StepFeatures {
    /** Sees every log line the step reports while set (the cache and journal stages keep them for replay). */
    logTap?: ((stream: LogStream, text: string) => void) | undefined
    /** Sees every part the step streams while set (the cache and journal stages keep them for replay). */
    partialTap?: ((index: number, text: string) => void) | undefined
  }
}

/**
 * The capture feature: hands what a step reports to its taps, which
 * `captureOutput` sets while a stage keeps the step's output (after the
 * permissions feature masked it: a cache entry or a record holds no secret).
 */
export const capture: Feature = {
  name: "capture",
  setup: () => ({
    onReport: (step, report) => {
      const features = step?.features
      if (features === undefined) return report
      const r: StepReport = report
      if (features.logTap !== undefined) {
        if (r.type === "step:log") features.logTap(r.stream, r.text)
        else if (r.type === "step:logs") for (const text of r.texts) features.logTap(r.stream, text)
      }
      if (features.partialTap !== undefined && r.type === "step:partial") features.partialTap(r.index, r.text)
      return report
    }
  })
}

/**
 * Starts keeping what `step` reports, through its `logTap` and `partialTap`.
 * A tap already set (an outer stage capturing too) still sees everything.
 */
export const captureOutput = (step: StepRun, options: CaptureOptions = {}): OutputCapture => {
  const memoryBytes = options.memoryBytes ?? outputMemoryBytes()
  const outerLog = step.features.logTap
  const outerPartial = step.features.partialTap
  let logs: Array<{ stream: LogStream; text: string }> = []
  let partials: Array<{ text: string; afterLogs: number }> = []
  let held = 0
  let writer: OutputFileWriter | undefined
  let partsWritten = 0
  let skipParts = 0
  /** Why the file could not be written, once it could not: from then on nothing more is kept. */
  let failed: string | undefined
  const dropped = { lines: 0, parts: 0, bytes: 0 }
  const seen = { lines: 0, bytes: 0 }

  /** Moves what memory holds into a new file, in the order it came; `false` when there is nowhere to put it. */
  const spill = (): boolean => {
    if (options.spillTo === undefined || failed !== undefined) return false
    try {
      const file = options.spillTo()
      fs.mkdirSync(path.dirname(file), { recursive: true })
      writer = openOutputFile(file)
      let shown = 0
      for (const part of partials) {
        for (; shown < part.afterLogs; shown++) writer.line(logs[shown]!.stream, logs[shown]!.text)
        writer.part(partsWritten++, part.text)
      }
      for (; shown < logs.length; shown++) writer.line(logs[shown]!.stream, logs[shown]!.text)
    } catch (error) {
      fail(error)
      return false
    }
    logs = []
    partials = []
    held = 0
    return true
  }
  const fail = (error: unknown) => {
    failed = error instanceof Error ? error.message : String(error)
    writer?.remove()
    writer = undefined
    logs = []
    partials = []
  }
  /** Writes to the file; `false` once it failed. */
  const write = (f: (writer: OutputFileWriter) => void): boolean => {
    if (writer === undefined) return false
    try {
      f(writer)
      return true
    } catch (error) {
      fail(error)
      return false
    }
  }

  step.features.logTap = (stream, text) => {
    outerLog?.(stream, text)
    seen.lines++
    seen.bytes += text.length
    if (write((w) => w.line(stream, text))) return
    if (failed === undefined && held + text.length + lineOverhead <= memoryBytes) {
      logs.push({ stream, text })
      held += text.length + lineOverhead
    } else if (spill()) {
      write((w) => w.line(stream, text))
    } else {
      dropped.lines++
      dropped.bytes += text.length
    }
  }
  step.features.partialTap = (index, text) => {
    outerPartial?.(index, text)
    // A retry streams its result again from part 0: only the last attempt's parts are the result's.
    if (index === 0) {
      for (const part of partials) held -= part.text.length + lineOverhead
      partials = []
      skipParts = partsWritten
      dropped.parts = 0
    }
    if (write((w) => w.part(partsWritten++, text))) return
    if (failed === undefined && held + text.length + lineOverhead <= memoryBytes) {
      partials.push({ text, afterLogs: logs.length })
      held += text.length + lineOverhead
    } else if (spill()) {
      write((w) => w.part(partsWritten++, text))
    } else {
      dropped.parts++
    }
  }

  let stopped: StepOutput | undefined
  const stop = (where: string): StepOutput => {
    if (stopped !== undefined) return stopped
    step.features.logTap = outerLog
    step.features.partialTap = outerPartial
    let spilled: SpilledOutput | undefined
    if (writer !== undefined) {
      try {
        const { digest, bytes } = writer.close()
        spilled = { file: writer.file, digest, bytes, skipParts }
      } catch (error) {
        fail(error)
      }
    }
    if (failed !== undefined) {
      stopped = { logs: [{ stream: "stderr", text: `weft: … the step's ${seen.lines} log lines (${mib(seen.bytes)}) could not be kept in ${where} (${failed})` }], partials: [] }
      return stopped
    }
    if (dropped.lines > 0) logs.push({ stream: "stderr", text: `weft: … ${dropped.lines} more log lines (${mib(dropped.bytes)}) were not kept in ${where}` })
    if (dropped.parts > 0) logs.push({ stream: "stderr", text: `weft: … ${dropped.parts} more streamed parts were not kept in ${where}` })
    stopped = spilled === undefined ? { logs, partials } : { logs: [], partials: [], spilled }
    return stopped
  }
  return {
    stop,
    discard: () => {
      stop("")
      writer?.remove()
    }
  }
}

/** Reports kept log lines and streamed parts, marked replayed, interleaved as the step produced them. */
export const replayOutput = (step: StepRun, output: StepOutput): void => {
  const { logs, partials } = output
  let shown = 0
  const logsUpTo = (end: number) => {
    for (; shown < Math.min(end, logs.length); shown++) {
      step.report({ type: "step:log", stream: logs[shown]!.stream, text: logs[shown]!.text, replayed: true })
    }
  }
  partials.forEach((part, index) => {
    logsUpTo(part.afterLogs)
    step.report({ type: "step:partial", index, text: part.text, replayed: true })
  })
  logsUpTo(logs.length)
}

/**
 * Text reported per batch of a replay from a file, before the event loop
 * gets a turn. Batches of 64 KiB left more lines alive at each collection,
 * to be promoted: replaying 1 GiB of 100-byte lines peaked at 174 MB RSS,
 * against 152 MB with 16 KiB, in the same time (bench/output.ts).
 */
const replayBatchBytes = 16 * 1024

/**
 * Reports the lines and parts of an output file (its bytes in `chunks`, its
 * digest already checked), marked replayed, a batch at a time: between
 * batches the event loop turns, so the run consumes what was reported before
 * more is read, and a replay of 1 GiB holds a batch, not the gigabyte.
 * A file that turns out damaged halfway ends the replay with a line saying so;
 * `signal` aborted ends it silently.
 */
export const replaySpilled = async (step: StepRun, chunks: AsyncIterable<Uint8Array>, skipParts: number, signal?: AbortSignal): Promise<void> => {
  let stream: LogStream = "stdout"
  let texts: Array<string> = []
  let bytes = 0
  let parts = 0
  const flush = async () => {
    if (texts.length > 0) step.report({ type: "step:logs", stream, texts, replayed: true })
    texts = []
    if (bytes >= replayBatchBytes) {
      bytes = 0
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }
  try {
    for await (const record of readOutputRecords(chunks)) {
      // Interrupted (Ctrl-C during a long replay): stop reading; the file is closed as the loop ends.
      if (signal?.aborted) return
      if (record.kind === "part") {
        if (parts++ < skipParts) continue
        await flush()
        step.report({ type: "step:partial", index: parts - skipParts - 1, text: record.text, replayed: true })
        bytes += record.text.length
        continue
      }
      if (record.stream !== stream) await flush()
      stream = record.stream
      texts.push(record.text)
      bytes += record.text.length
      if (bytes >= replayBatchBytes) await flush()
    }
    await flush()
  } catch (error) {
    await flush()
    step.report({ type: "step:log", stream: "stderr", text: `weft: … the rest of the output could not be replayed (${error instanceof Error ? error.message : String(error)})`, replayed: true })
  }
}
