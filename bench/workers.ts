/**
 * Workers (`weft run --workers`) against the same work run locally, in one
 * run of this script, over a real redis-server on loopback and real
 * `weft worker` processes:
 *
 * - Overhead per remote step: a chain of trivial function steps, each step's
 *   `step:end` to its dependent's `step:start` (the scheduler's turn, the
 *   job's trip through Redis, the worker picking it up, its start coming
 *   back), p50 and p95; beside the same chain run locally.
 * - Speed-up: the makespan bench's 40-step random DAG with commands sleeping
 *   0.2-1 s, on 1, 2 and 4 workers of concurrency 1, against the lower bound
 *   max(critical path, total work / workers). The coordinator runs in this
 *   process and is timed from `run:start` to `run:end` (its own start-up, and
 *   the workers', are not in the figure). Target (issue 15): at most 1.15× at
 *   4 workers.
 *
 *   node --conditions=weft-source bench/workers.ts [--chain 40] [--repeats 1]
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { loadWorkflow } from "../runtime/loadWorkflow.ts"
import * as Plan from "../runtime/Plan.ts"
import { run } from "../runtime/Run.ts"
import type { Event } from "../runtime/Event.ts"
import { makeCoordinator } from "../runtime/workers/index.ts"
import { startRedis } from "../test/fixtures/redis.ts"
import { lowerBound, timedDag } from "./makespan.ts"
import { fmt, median, table } from "./stats.ts"

const root = fileURLToPath(new URL("..", import.meta.url))

const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
}

/** Starts `weft worker` in `dir`, resolved once it waits for steps. */
const startWorker = (url: string, dir: string, name: string): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, "bin/weft.js"), "worker", url, "--name", name], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] })
    let err = ""
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      err += text
      if (err.includes("waiting for steps")) resolve(child)
    })
    child.once("exit", (code) => reject(new Error(`worker ${name} exited (${code}):\n${err}`)))
  })

const stopWorkers = async (workers: ReadonlyArray<ChildProcess>) => {
  await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
    if (w.exitCode !== null || w.signalCode !== null) return resolve()
    w.once("exit", () => resolve())
    w.kill("SIGINT")
  })))
}

/**
 * Runs `file` (in `dir`) on the workers at `url` (`undefined`: locally); its
 * events. `durations` are what a run's history would know (its steps' last
 * durations): they rank the steps, as they do from a workflow's second run.
 */
const runFile = async (dir: string, file: string, url: string | undefined, durations?: ReadonlyMap<string, number>): Promise<Array<Event>> => {
  const { workflow } = await loadWorkflow(file, dir)
  const events: Array<Event> = []
  const plan = Plan.make(workflow, { durations })
  const ranks = new Map(plan.ids.map((id, i) => [id, plan.rank[i]!]))
  const coordinator = url === undefined ? undefined : await makeCoordinator({ url, root: dir, ranks })
  try {
    const result = await run(workflow, { cwd: dir, file: path.join(dir, file), cache: { mode: "off", dir: path.join(dir, ".weft/cache") }, commandConcurrency: 64, durations, executor: coordinator?.executor, onEvent: (e: Event) => void events.push(e) })
    if (result.status !== "succeeded") throw new Error(`the bench's run ${result.status}`)
  } finally {
    await coordinator?.close(false)
  }
  return events
}

/** Each step's `step:start` minus its dependency's `step:end`, along a chain. */
const gaps = (events: ReadonlyArray<Event>): Array<number> => {
  const ended = new Map<string, number>()
  const out: Array<number> = []
  for (const e of events) {
    if (e.type === "step:end") ended.set(e.step, e.time)
    if (e.type === "step:start" && e.step !== "s0") out.push(e.time - ended.get(`s${Number(e.step.slice(1)) - 1}`)!)
  }
  return out
}

export const main = async (options: { readonly chain?: number; readonly repeats?: number } = {}): Promise<void> => {
  const { chain = 40, repeats = 1 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  const redis = await startRedis()
  const dir = mkdtempSync(path.join(tmpdir(), "weft-bench-workers-"))
  const workers: Array<ChildProcess> = []
  try {
    // weft as a package (a link to this repository), as a project has it: an
    // import by absolute path would put weft's 177 modules in the workflow's
    // digest, which each job checks (15 ms a job, against 0.03 ms).
    mkdirSync(path.join(dir, "node_modules"))
    symlinkSync(root, path.join(dir, "node_modules", "weft"))
    writeFileSync(path.join(dir, "chain.ts"), [
      `import { workflow } from "weft"`,
      `let wf: any = workflow("chain").step("s0", () => 0)`,
      `for (let i = 1; i < ${chain}; i++) wf = wf.step(\`s\${i}\`, { needs: [\`s\${i - 1}\`] }, (inputs: any) => inputs[\`s\${i - 1}\`] + 1)`,
      "export default wf",
      ""
    ].join("\n"))
    const dag = timedDag(40, 3)
    const seconds = dag.seconds.map((s) => Math.round((0.2 + ((s - 0.02) / 0.18) * 0.8) * 100) / 100)
    writeFileSync(path.join(dir, "dag.json"), JSON.stringify({ name: "bench-workers", steps: dag.ids.map((id, i) => ({ id, run: ["sleep", seconds[i]!.toFixed(2)], after: dag.after[i]!.map((d) => dag.ids[d]!) })) }))
    say(`workers: redis-server on loopback, weft worker processes of concurrency 1; load average ${loadavg().map((l) => l.toFixed(2)).join(", ")}`)

    workers.push(await startWorker(redis.url, dir, "w1"))
    await runFile(dir, "chain.ts", redis.url) // warm-up: the worker's first import of the workflow
    const local: Array<number> = []
    const remote: Array<number> = []
    for (let r = 0; r < repeats; r++) {
      local.push(...gaps(await runFile(dir, "chain.ts", undefined)))
      remote.push(...gaps(await runFile(dir, "chain.ts", redis.url)))
    }
    say(`  overhead per step, a step's end to its dependent's start (${chain}-step chain × ${repeats}), ms:`)
    say(table([["", "p50", "p95"], ["local", fmt(percentile(local, 0.5)), fmt(percentile(local, 0.95))], ["workers", fmt(percentile(remote, 0.5)), fmt(percentile(remote, 0.95))]]))

    const durations = new Map(dag.ids.map((id, i) => [id, seconds[i]! * 1000]))
    const rows: Array<Array<string>> = [["workers", "lower bound, s", "makespan, s", "ratio", ""]]
    for (const n of [1, 2, 4]) {
      while (workers.length < n) workers.push(await startWorker(redis.url, dir, `w${workers.length + 1}`))
      const spans: Array<number> = []
      for (let r = 0; r < repeats; r++) {
        const end = (await runFile(dir, "dag.json", redis.url, durations)).find((e) => e.type === "run:end")
        spans.push(end!.time)
      }
      const bound = lowerBound({ ...dag, seconds }, n)
      const ratio = median(spans) / 1000 / bound
      rows.push([String(n), fmt(bound), fmt(median(spans) / 1000), fmt(ratio), n === 4 ? (ratio <= 1.15 ? "meets 1.15" : "MISSES 1.15") : ""])
    }
    say(`  speed-up: 40 commands sleeping 0.2-1 s (makespan bench's DAG, seed 3), median of ${repeats}:`)
    say(table(rows))
  } finally {
    await stopWorkers(workers)
    await redis.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { chain: { type: "string" }, repeats: { type: "string" } } })
  await main({
    ...(values.chain === undefined ? {} : { chain: Number(values.chain) }),
    ...(values.repeats === undefined ? {} : { repeats: Number(values.repeats) })
  })
}
