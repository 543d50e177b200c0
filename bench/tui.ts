/**
 * The dashboard's cost.
 *
 * - First draw: wall clock from spawning `weft run --reporter tui` to its
 *   first byte on stdout, against `node` writing one byte (the floor). The
 *   issue asks for drawing within 100 ms of the command.
 * - Render cost: a 500-step workflow (steps of 2 ms, concurrency 16) run
 *   in-process with the dashboard drawing to an 80×24 terminal, against the
 *   same run with the silent reporter. Rendering must not slow the run down.
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { workflow } from "../dsl/Workflow.ts"
import { run } from "../runtime/Run.ts"
import { makeDashboard } from "../tui/dashboard.ts"
import { FakeStdin, FakeStdout } from "../tui/fakeTerminal.ts"
import { fmt, median, table, timeRuns } from "./stats.ts"

const root = path.resolve(import.meta.dirname, "..")
const bin = path.join(root, "bin", "weft.js")

/** Milliseconds from spawning `node args…` to its first byte on stdout; the process is then left to finish. */
const firstByte = (args: ReadonlyArray<string>): Promise<number> =>
  new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "" } })
    let first: number | undefined
    let stderr = ""
    child.stdout.on("data", () => (first ??= performance.now() - t0))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => (code === 0 && first !== undefined ? resolve(first) : reject(new Error(`node ${args.join(" ")} exited ${code}:\n${stderr}`))))
  })

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const wide = (steps: number) => {
  let wf = workflow("bench-tui", { concurrency: 16 }).step("root", () => sleep(2))
  for (let i = 0; i < steps - 2; i++) wf = wf.step(`step-${i}`, { after: ["root"] }, () => sleep(2)) as typeof wf
  return wf.step("sink", { after: Array.from({ length: steps - 2 }, (_, i) => `step-${i}`) as any }, () => undefined)
}

export const main = async (options: { readonly repeats?: number } = {}): Promise<void> => {
  const { repeats = 5 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  const fixture = path.join("bench", "fixtures", "one-step.ts")
  await firstByte([bin, "run", fixture, "--reporter", "tui"])
  const draws: Array<number> = []
  const floors: Array<number> = []
  for (let r = 0; r < repeats; r++) {
    draws.push(await firstByte([bin, "run", fixture, "--reporter", "tui"]))
    floors.push(await firstByte(["-e", "process.stdout.write('x')"]))
  }
  const wf = wide(500)
  const withDashboard = async () => {
    const dashboard = makeDashboard({ stdout: new FakeStdout(80, 24) as any, stdin: new FakeStdin() as any, color: true })
    await run(wf, { reporter: dashboard, cache: { mode: "off" } })
    await dashboard.close?.()
  }
  const silent = () => run(wf, { cache: { mode: "off" } })
  await withDashboard()
  await silent()
  const tui: Array<number> = []
  const bare: Array<number> = []
  for (let r = 0; r < repeats; r++) {
    tui.push(...(await timeRuns(withDashboard, 1)))
    bare.push(...(await timeRuns(silent, 1)))
  }
  say(`dashboard: median of ${repeats} runs after a warm-up`)
  say(table([
    ["", "weft ms", "baseline ms", "ratio", "baseline"],
    ["first draw", fmt(median(draws)), fmt(median(floors)), `${fmt(median(draws) / median(floors))}x`, "node writing one byte"],
    ["500 steps, drawn", fmt(median(tui)), fmt(median(bare)), `${fmt(median(tui) / median(bare))}x`, "the same run, silent"]
  ]))
  say(`  first draw ≤ 100 ms: ${median(draws) <= 100 ? "met" : "MISSED"}`)
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { repeats: { type: "string" } } })
  await main(values.repeats === undefined ? {} : { repeats: Number(values.repeats) })
}
