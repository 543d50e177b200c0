/**
 * Memory under heavy output: one command step printing 1 GiB, run by weft's
 * `run()`, in 100-byte lines (10.7 million `step:log` events) and in 64 KiB
 * lines. Target: the runner stays under 150 MB peak RSS.
 *
 * Each figure comes from a fresh child process (`--child`), which prints its
 * peak RSS (`process.resourceUsage().maxRSS`):
 *
 * - weft: loads weft, notes its peak RSS so far ("after loading"), then runs
 *   the one-step workflow and notes the peak again. The difference is what
 *   the output cost.
 * - bare: a plain Node process that spawns the same writer and reads its
 *   output, counting newlines: the floor for reading that much through a pipe.
 *
 * The writer is `node -e` writing lines of the given size in 64 KiB writes,
 * waiting for `drain`, so the reader sets the pace.
 *
 *   node bench/output.ts [--mib 1024] [--repeats 1]
 */
import { spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { fmt, median, table } from "./stats.ts"

/** What the issue bounds: peak RSS of the runner while a step prints 1 GiB. */
const targetMB = 150

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

/** Child: run the writer as a weft step and count its `step:log` events. */
const weftChild = async (lineBytes: number, lines: number): Promise<ChildReport> => {
  const { cmd } = await import("../dsl/Command.ts")
  const { workflow } = await import("../dsl/Workflow.ts")
  const { run } = await import("../runtime/Run.ts")
  const loadedKB = process.resourceUsage().maxRSS
  let seen = 0
  const t0 = performance.now()
  const result = await run(workflow("bench-output").step("print", cmd(writerArgv(lineBytes, lines))), {
    onEvent: (event) => {
      if (event.type === "step:log") seen++
    }
  })
  if (result.status !== "succeeded") throw new Error(`the step ended ${result.status}: ${JSON.stringify(result.steps)}`)
  return { loadedKB, peakKB: process.resourceUsage().maxRSS, lines: seen, seconds: (performance.now() - t0) / 1000 }
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

const inChild = (kind: "weft" | "bare", lineBytes: number, lines: number): ChildReport => {
  const out = spawnSync(process.execPath, [self, "--child", kind, String(lineBytes), String(lines)], { encoding: "utf8" })
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
}

export const main = async (options: OutputOptions = {}): Promise<void> => {
  const { mib = 1024, repeats = 1 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  say(`output: one command step printing ${mib} MiB through run(), peak RSS of a fresh child each (median of ${repeats})`)
  say(`  weft: the child's peak RSS after loading weft, then after the run; bare: a plain Node process reading the same output`)
  say(`  target: the runner under ${targetMB} MB peak RSS`)
  const rows = [["case", "lines", "weft peak MB", "after loading MB", "growth MB", "bare node MB", "weft s", "bare s"]]
  const verdicts: Array<string> = []
  for (const { name, lineBytes } of cases) {
    const lines = linesFor(lineBytes, mib)
    const weft = Array.from({ length: repeats }, () => inChild("weft", lineBytes, lines))
    const bare = Array.from({ length: repeats }, () => inChild("bare", lineBytes, lines))
    const peak = mb(median(weft.map((r) => r.peakKB)))
    const loaded = mb(median(weft.map((r) => r.loadedKB!)))
    rows.push([
      name,
      lines.toLocaleString("en"),
      fmt(peak),
      fmt(loaded),
      fmt(peak - loaded),
      fmt(mb(median(bare.map((r) => r.peakKB)))),
      fmt(median(weft.map((r) => r.seconds))),
      fmt(median(bare.map((r) => r.seconds)))
    ])
    verdicts.push(`${name}: ${peak <= targetMB ? "meets" : "MISSES"} the target (${fmt(peak)} MB${repeats > 1 ? `; runs: ${weft.map((r) => fmt(mb(r.peakKB))).join(", ")}` : ""})`)
  }
  say(table(rows))
  for (const verdict of verdicts) say(`  ${verdict}`)
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { child: { type: "string" }, mib: { type: "string" }, repeats: { type: "string" } }
  })
  if (values.child !== undefined) {
    const [lineBytes, lines] = positionals.map(Number) as [number, number]
    const report = values.child === "weft" ? await weftChild(lineBytes, lines) : await bareChild(lineBytes, lines)
    process.stdout.write(JSON.stringify(report))
  } else {
    await main({
      ...(values.mib === undefined ? {} : { mib: Number(values.mib) }),
      ...(values.repeats === undefined ? {} : { repeats: Number(values.repeats) })
    })
  }
}
