/**
 * Watch mode's reaction time: from writing one step's input file to that
 * step's `step:start` in the rerun, beyond the debounce (which is waiting by
 * design), on a 200-step workflow whose every step reads its own file.
 *
 * Baseline, in the same run: bare chokidar watching the same folder, from the
 * same kind of write to its `change` event. What watch mode adds on top is
 * the debounce's timer, the rerun (plan, 199 kept steps, the cache key of the
 * changed step: hashing its input) and the events up to `step:start`.
 * Target: at most 50 ms at p95 beyond the debounce.
 *
 *   node bench/watch.ts [--writes 30]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { watch as chokidarWatch } from "chokidar"
import { loadWorkflow } from "../runtime/loadWorkflow.ts"
import { startSession } from "../runtime/watch/Session.ts"
import { fmt, median, table } from "./stats.ts"

const steps = 200
const debounceMs = 50
const dslIndex = path.resolve(import.meta.dirname, "../dsl/index.ts")

const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A folder with `in/<i>.txt` and a workflow whose step `s<i>` reads it. */
const setUp = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-bench-watch-"))
  mkdirSync(path.join(dir, "in"))
  for (let i = 0; i < steps; i++) writeFileSync(path.join(dir, "in", `${i}.txt`), "0")
  writeFileSync(path.join(dir, "weft.ts"), [
    `import { workflow } from ${JSON.stringify(dslIndex)}`,
    `let wf: any = workflow("bench-watch", { concurrency: 8 })`,
    `for (let i = 0; i < ${steps}; i++) wf = wf.step("s" + i, { cache: { inputs: ["in/" + i + ".txt"] } }, () => i)`,
    `export default wf`,
    ""
  ].join("\n"))
  return dir
}

/** Milliseconds from each write to `reacted(i)` resolving, for `writes` writes to random files. */
const measure = async (dir: string, writes: number, reacted: (i: number) => Promise<number>): Promise<Array<number>> => {
  const ms: Array<number> = []
  for (let n = 0; n < writes; n++) {
    const i = Math.floor(Math.random() * steps)
    const seen = reacted(i)
    const t0 = performance.now()
    writeFileSync(path.join(dir, "in", `${i}.txt`), String(t0))
    ms.push((await seen) - t0)
    // Past chokidar's 50 ms per-path window, and the rerun settled.
    await sleep(150)
  }
  return ms
}

/** Bare chokidar's event latency for the same writes. */
const baseline = async (dir: string, writes: number): Promise<Array<number>> => {
  const watcher = chokidarWatch(path.join(dir, "in"), { ignoreInitial: true })
  await new Promise<void>((resolve) => watcher.on("ready", () => resolve()))
  let waiting: { readonly file: string; readonly resolve: (t: number) => void } | undefined
  watcher.on("change", (file) => {
    if (waiting !== undefined && path.resolve(file) === waiting.file) waiting.resolve(performance.now())
  })
  try {
    return await measure(dir, writes, (i) => new Promise((resolve) => (waiting = { file: path.join(dir, "in", `${i}.txt`), resolve })))
  } finally {
    await watcher.close()
  }
}

/** Watch mode: from the write to the step's `step:start`, minus the debounce. */
const watchMode = async (dir: string, writes: number): Promise<Array<number>> => {
  const { workflow } = await loadWorkflow("weft.ts", dir)
  let waiting: { readonly step: string; readonly resolve: (t: number) => void } | undefined
  let idle: (() => void) | undefined
  const session = startSession({
    file: "weft.ts",
    cwd: dir,
    workflow,
    debounceMs,
    onEvent: (event) => {
      if (event.type === "step:start" && event.step === waiting?.step) waiting.resolve(performance.now())
    },
    onWatch: (event) => {
      if (event.type === "watch:idle") idle?.()
    }
  })
  await new Promise<void>((resolve) => (idle = resolve))
  try {
    const ms = await measure(dir, writes, (i) => new Promise((resolve) => (waiting = { step: `s${i}`, resolve })))
    return ms.map((t) => t - debounceMs)
  } finally {
    await session.close()
  }
}

export const main = async (options: { readonly writes?: number } = {}): Promise<void> => {
  const writes = options.writes ?? 30
  const say = (text: string) => process.stdout.write(`${text}\n`)
  const dir = setUp()
  try {
    const bare = await baseline(dir, writes)
    const watched = await watchMode(dir, writes)
    say(`watch: write → step:start on a ${steps}-step workflow, beyond the ${debounceMs} ms debounce (${writes} writes; target p95 ≤ 50 ms)`)
    say(table([
      ["", "p50 ms", "p95 ms", "median ms"],
      ["bare chokidar event (baseline)", fmt(percentile(bare, 50)), fmt(percentile(bare, 95)), fmt(median(bare))],
      ["weft watch", fmt(percentile(watched, 50)), fmt(percentile(watched, 95)), fmt(median(watched))]
    ]))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { writes: { type: "string" } } })
  await main(values.writes === undefined ? {} : { writes: Number(values.writes) })
}
