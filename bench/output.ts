/**
 * Memory under heavy output: one command step printing 1 GiB, in 100-byte
 * lines (10.7 million `step:log` events) and in 64 KiB lines, run by weft as
 * `weft run` would, with the run journal and the step log files, cached and
 * not, and replayed. Target: the runner stays under 200 MB peak RSS in every
 * mode.
 *
 * Each figure comes from a fresh child process (`--child`), which prints its
 * peak RSS (`process.resourceUsage().maxRSS`):
 *
 * - run(): weft's `run()` alone, no journal, no cache, no log files.
 * - uncached: the journal and `.weft/logs` on, the cache off (`weft run --no-cache`);
 *   a second step fails, so the run can be resumed.
 * - resume: the same folder, `--resume`: the printing step is replayed from the journal.
 * - cached: the journal, the log files and the cache on, the step a miss, stored (`weft run`).
 * - hit: the same folder again: the step is replayed from the cache.
 * - bare: a plain Node process that spawns the same writer and reads its
 *   output, counting newlines: the floor for reading that much through a pipe.
 *
 * A weft child notes its peak RSS after loading weft ("after loading") and
 * after the run; the difference is what the output cost. It checks that it
 * saw every line (replayed ones included) and that the step's log file holds
 * every one of them.
 *
 * The writer is `node -e` writing lines of the given size in 64 KiB writes,
 * waiting for `drain`, so the reader sets the pace.
 *
 *   node bench/output.ts [--mib 1024] [--repeats 1] [--modes run(),uncached,resume,cached,hit] [--lines 100,65536]
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { fmt, median, table } from "./stats.ts"

/** What the issue bounds: peak RSS of the runner while a step prints 1 GiB. */
const targetMB = 200

/** How weft runs the step (see the list above); in this order, as `resume` and `hit` reuse what the mode before left. */
const modes = ["run()", "uncached", "resume", "cached", "hit"] as const
type Mode = typeof modes[number]

/** Line sizes, newline included. */
const cases = [
  { name: "100-byte lines", lineBytes: 100 },
  { name: "64 KiB lines", lineBytes: 64 * 1024 }
] as const

/** Writes `lines` lines of `lineBytes` bytes (newline included) to stdout, 64 KiB at a time. */
const writer = `
const [lineBytes, lines] = process.argv.slice(1).map(Number)
const line = "x".repeat(lineBytes - 1) + "\\n"
const perWrite = Math.max(1, Math.floor(65536 / lineBytes))
const block = line.repeat(perWrite)
let left = lines
const go = () => {
  while (left > 0) {
    const n = Math.min(perWrite, left)
    left -= n
    if (!process.stdout.write(n === perWrite ? block : line.repeat(n))) return void process.stdout.once("drain", go)
  }
}
go()
`

const writerArgv = (lineBytes: number, lines: number) => [process.execPath, "-e", writer, String(lineBytes), String(lines)]

const linesFor = (lineBytes: number, mib: number) => Math.floor((mib * 1024 * 1024) / lineBytes)

interface ChildReport {
  readonly loadedKB?: number
  readonly peakKB: number
  readonly lines: number
  readonly seconds: number
}

/** Bytes a step's log file gives each line of `lineBytes` (newline included): time and stream, then the text. */
const logLineBytes = (lineBytes: number) => 17 + lineBytes

/** Child: run the writer as a weft step, as `mode` says, in `dir`, and count its `step:log` events. */
const weftChild = async (mode: Mode, dir: string, lineBytes: number, lines: number): Promise<ChildReport> => {
  const { cmd } = await import("../dsl/Command.ts")
  const { workflow } = await import("../dsl/Workflow.ts")
  const { run } = await import("../runtime/Run.ts")
  const { logFiles } = await import("../runtime/logs/LogFiles.ts")
  const loadedKB = process.resourceUsage().maxRSS
  const cached = mode === "cached" || mode === "hit"
  // Uncached, a second step fails the first time, so there is a run to resume.
  const failCheck = mode === "uncached"
  const wf = workflow("bench-output")
    .step("print", { cache: cached }, cmd(writerArgv(lineBytes, lines)))
    .step("check", { needs: ["print"] }, () => {
      if (failCheck) throw new Error("failing on purpose, to be resumed")
      return true
    })
  let seen = 0
  const t0 = performance.now()
  const result = await run(wf, {
    cwd: dir,
    ...(mode === "run()" ? {} : { journal: true, reporter: logFiles({ dir: path.join(dir, ".weft", "logs") }) }),
    ...(mode === "resume" ? { resume: true } : {}),
    cache: { mode: cached ? "use" : "off", dir: path.join(dir, ".weft", "cache") },
    onEvent: (event) => {
      if (event.type === "step:log" && event.step === "print" && !event.text.startsWith("weft:")) seen++
    }
  })
  const seconds = (performance.now() - t0) / 1000
  const expected = mode === "resume" || mode === "hit" ? "cached" : "succeeded"
  if (result.steps.print!.status !== expected) throw new Error(`the step ended ${result.steps.print!.status}, not ${expected}: ${JSON.stringify(result.steps)}`)
  if (mode !== "run()") {
    const logs = path.join(dir, ".weft", "logs")
    const run = readdirSync(logs).filter((name) => !name.startsWith(".")).sort().at(-1)!
    const bytes = statSync(path.join(logs, run, "print.log")).size
    if (bytes < lines * logLineBytes(lineBytes)) throw new Error(`the step's log file has ${bytes} bytes, fewer than its ${lines} lines need`)
  }
  return { loadedKB, peakKB: process.resourceUsage().maxRSS, lines: seen, seconds }
}

/** Child: the floor, a plain Node process reading the same output and counting newlines. */
const bareChild = (lineBytes: number, lines: number): Promise<ChildReport> =>
  new Promise((resolve, reject) => {
    const [program, ...args] = writerArgv(lineBytes, lines)
    const t0 = performance.now()
    const child = spawn(program!, args, { stdio: ["ignore", "pipe", "inherit"] })
    let seen = 0
    child.stdout.on("data", (chunk: Buffer) => {
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) seen++
    })
    child.on("error", reject)
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`the writer exited ${code}`))
      resolve({ peakKB: process.resourceUsage().maxRSS, lines: seen, seconds: (performance.now() - t0) / 1000 })
    })
  })

const self = fileURLToPath(import.meta.url)

const inChild = (kind: Mode | "bare", dir: string, lineBytes: number, lines: number): ChildReport => {
  const out = spawnSync(process.execPath, [self, "--child", kind, dir, String(lineBytes), String(lines)], { encoding: "utf8" })
  if (out.status !== 0) throw new Error(`${kind} child (${lineBytes}-byte lines) failed:\n${out.stderr}`)
  const report = JSON.parse(out.stdout) as ChildReport
  if (report.lines !== lines) throw new Error(`${kind} child saw ${report.lines} of ${lines} lines`)
  return report
}

const mb = (kb: number) => kb / 1024

export interface OutputOptions {
  /** MiB the step prints (default 1024). */
  readonly mib?: number
  /** Fresh children per figure; the median is shown (default 1). */
  readonly repeats?: number
  /** Which modes to run (default all); `resume` needs `uncached`, `hit` needs `cached`. */
  readonly modes?: ReadonlyArray<Mode>
  /** Which line sizes to run, in bytes (default both). */
  readonly lineBytes?: ReadonlyArray<number>
}

export const main = async (options: OutputOptions = {}): Promise<void> => {
  const { mib = 1024, repeats = 1 } = options
  const chosen = modes.filter((mode) => options.modes === undefined || options.modes.includes(mode))
  const say = (text: string) => process.stdout.write(`${text}\n`)
  say(`output: one command step printing ${mib} MiB, peak RSS of a fresh child each (median of ${repeats})`)
  say(`  run(): no journal, no cache; uncached: journal and log files (weft run --no-cache); resume: replayed from the journal;`)
  say(`  cached: journal, log files and cache, stored (weft run); hit: replayed from the cache; bare: plain Node reading the same output`)
  say(`  target: the runner under ${targetMB} MB peak RSS`)
  const rows = [["case", "mode", "lines", "peak MB", "after loading MB", "growth MB", "seconds"]]
  const verdicts: Array<string> = []
  for (const { name, lineBytes } of cases.filter((c) => options.lineBytes === undefined || options.lineBytes.includes(c.lineBytes))) {
    const lines = linesFor(lineBytes, mib)
    const bare = Array.from({ length: repeats }, () => inChild("bare", "", lineBytes, lines))
    rows.push([name, "bare node", lines.toLocaleString("en"), fmt(mb(median(bare.map((r) => r.peakKB)))), "", "", fmt(median(bare.map((r) => r.seconds)))])
    const reports = new Map<Mode, Array<ChildReport>>(chosen.map((mode) => [mode, []]))
    for (let r = 0; r < repeats; r++) {
      // One folder per repeat: `resume` and `hit` replay what `uncached` and `cached` left in it.
      const dir = mkdtempSync(path.join(tmpdir(), "weft-bench-output-"))
      try {
        for (const mode of chosen) reports.get(mode)!.push(inChild(mode, dir, lineBytes, lines))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
    for (const mode of chosen) {
      const weft = reports.get(mode)!
      const peak = mb(median(weft.map((r) => r.peakKB)))
      const loaded = mb(median(weft.map((r) => r.loadedKB!)))
      rows.push([name, mode, lines.toLocaleString("en"), fmt(peak), fmt(loaded), fmt(peak - loaded), fmt(median(weft.map((r) => r.seconds)))])
      verdicts.push(`${name}, ${mode}: ${peak <= targetMB ? "meets" : "MISSES"} the target (${fmt(peak)} MB${repeats > 1 ? `; runs: ${weft.map((r) => fmt(mb(r.peakKB))).join(", ")}` : ""})`)
    }
  }
  say(table(rows))
  for (const verdict of verdicts) say(`  ${verdict}`)
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { child: { type: "string" }, mib: { type: "string" }, repeats: { type: "string" }, modes: { type: "string" }, lines: { type: "string" } }
  })
  if (values.child !== undefined) {
    const [dir, lineBytes, lines] = [positionals[0]!, Number(positionals[1]), Number(positionals[2])]
    const report = values.child === "bare" ? await bareChild(lineBytes, lines) : await weftChild(values.child as Mode, dir, lineBytes, lines)
    process.stdout.write(JSON.stringify(report))
  } else {
    await main({
      ...(values.mib === undefined ? {} : { mib: Number(values.mib) }),
      ...(values.repeats === undefined ? {} : { repeats: Number(values.repeats) }),
      ...(values.modes === undefined ? {} : { modes: values.modes.split(",") as Array<Mode> }),
      ...(values.lines === undefined ? {} : { lineBytes: values.lines.split(",").map(Number) })
    })
  }
}
