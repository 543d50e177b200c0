/**
 * Makespan of a timed DAG, whole command (start-up included), as the peer
 * bench's w3 workload measures it (../shared/peer-bench): 40 steps that
 * `sleep` 0.02–0.20 s, each after 0–3 earlier steps, at concurrency 2 and 4.
 * Each tool's wall time is divided by the lower bound, max(critical path,
 * total work / concurrency): 1.00 is a perfect schedule with free start-up.
 *
 * In the same run, beside weft as users run it (built and installed,
 * bench/installed.ts): the Node floor (a FIFO spawn loop: what any Node tool
 * pays to start and spawn, in ready order with no priorities) and ninja when
 * it is installed (apt `ninja-build`).
 *
 *   node bench/makespan.ts [--repeats 5] [--seed 3]
 *
 * Target (issue 14): weft's ratio at or below ninja's at both concurrencies.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { prng, randomDag } from "./graph.ts"
import { installedProject } from "./installed.ts"
import { fmt, median, table } from "./stats.ts"

const concurrencies = [2, 4]

interface TimedDag {
  readonly ids: ReadonlyArray<string>
  readonly after: ReadonlyArray<ReadonlyArray<number>>
  /** Seconds, to the hundredth (what `sleep` is given). */
  readonly seconds: ReadonlyArray<number>
}

export const timedDag = (n: number, seed: number): TimedDag => {
  const graph = randomDag(n, seed)
  const random = prng(seed * 7919 + 1)
  return {
    ids: graph.deps.map((_, i) => `s${i}`),
    after: graph.deps,
    seconds: graph.deps.map(() => Math.round((0.02 + random() * 0.18) * 100) / 100)
  }
}

/** max(critical path, total work / concurrency), in seconds. */
export const lowerBound = (dag: TimedDag, concurrency: number): number => {
  const finish: Array<number> = []
  dag.seconds.forEach((s, i) => (finish[i] = s + Math.max(0, ...dag.after[i]!.map((d) => finish[d]!))))
  const work = dag.seconds.reduce((a, b) => a + b, 0)
  return Math.max(Math.max(...finish), work / concurrency)
}

const floorScript = `// The Node floor: spawn each ready step (argv, no shell), at most N at once, in ready order.
import { readFileSync } from "node:fs"
import { spawn } from "node:child_process"
const [file, limit] = [process.argv[2], Number(process.argv[3])]
const { steps } = JSON.parse(readFileSync(file, "utf8"))
const waiting = new Map(steps.map((s) => [s.id, s.after.length]))
const dependents = new Map(steps.map((s) => [s.id, []]))
for (const s of steps) for (const a of s.after) dependents.get(a).push(s)
const ready = steps.filter((s) => s.after.length === 0)
let running = 0, done = 0
const pump = () => {
  while (running < limit && ready.length > 0) {
    const s = ready.shift()
    running++
    spawn(s.run[0], s.run.slice(1), { stdio: "inherit" }).on("exit", (code) => {
      if (code !== 0) process.exit(1)
      running--, done++
      for (const d of dependents.get(s.id)) if (waiting.set(d.id, waiting.get(d.id) - 1).get(d.id) === 0) ready.push(d)
      if (done === steps.length) process.exit(0)
      pump()
    })
  }
}
pump()
`

const ninjaFile = (dag: TimedDag): string =>
  [
    "rule sleep",
    "  command = sleep $seconds && touch $out",
    ...dag.ids.flatMap((id, i) => [
      `build out/${id}.stamp: sleep${dag.after[i]!.length > 0 ? ` | ${dag.after[i]!.map((d) => `out/${dag.ids[d]}.stamp`).join(" ")}` : ""}`,
      `  seconds = ${dag.seconds[i]!.toFixed(2)}`
    ]),
    `build all: phony ${dag.ids.map((id) => `out/${id}.stamp`).join(" ")}`,
    "default all",
    ""
  ].join("\n")

const hasNinja = (): boolean => spawnSync("ninja", ["--version"], { stdio: "ignore" }).status === 0

/** Wall milliseconds of one run of `command args`, after `before`; throws on failure. */
const wall = (command: string, args: ReadonlyArray<string>, cwd: string, before: () => void = () => {}): number => {
  before()
  const t0 = performance.now()
  const out = spawnSync(command, args, { cwd, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" })
  const ms = performance.now() - t0
  if (out.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${out.status}:\n${out.stderr}`)
  return ms
}

export const main = async (options: { readonly repeats?: number; readonly seed?: number } = {}): Promise<void> => {
  const { repeats = 5, seed = 3 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  const dag = timedDag(40, seed)
  const spec = { name: "bench-makespan", steps: dag.ids.map((id, i) => ({ id, run: ["sleep", dag.seconds[i]!.toFixed(2)], after: dag.after[i]!.map((d) => dag.ids[d]!) })) }
  const project = await installedProject({ "weft.json": JSON.stringify(spec), "floor.mjs": floorScript, "build.ninja": ninjaFile(dag) })
  const ninja = hasNinja()
  say(`makespan: 40 timed steps (sleep 0.02-0.20 s, seed ${seed}), whole command, median of ${repeats}; load average ${loadavg().map((l) => l.toFixed(2)).join(", ")}`)
  say(`  wall time / lower bound (max(critical path, work / concurrency)); target: weft <= ninja${ninja ? "" : " (ninja not installed: apt install ninja-build)"}`)
  const rows: Array<Array<string>> = [["concurrency", "lower bound, s", "weft", "Node floor (FIFO)", ...(ninja ? ["ninja"] : []), ""]]
  try {
    for (const c of concurrencies) {
      const bound = lowerBound(dag, c) * 1000
      const cleanNinja = () => {
        rmSync(path.join(project.dir, "out"), { recursive: true, force: true })
        rmSync(path.join(project.dir, ".ninja_log"), { force: true })
        mkdirSync(path.join(project.dir, "out"))
      }
      const runs = { weft: [] as Array<number>, floor: [] as Array<number>, ninja: [] as Array<number> }
      // Interleaved, so that a change in the machine's load falls on every tool alike.
      for (let r = 0; r <= repeats; r++) {
        const weft = wall(process.execPath, [project.bin, "run", "weft.json", "--concurrency", String(c), "--reporter", "json"], project.dir)
        const floor = wall(process.execPath, ["floor.mjs", "weft.json", String(c)], project.dir)
        const nin = ninja ? wall("ninja", ["-j", String(c)], project.dir, cleanNinja) : 0
        if (r === 0) continue // warm-up: compile caches, the page cache
        runs.weft.push(weft), runs.floor.push(floor), runs.ninja.push(nin)
      }
      const [w, f, n] = [median(runs.weft) / bound, median(runs.floor) / bound, median(runs.ninja) / bound]
      rows.push([String(c), fmt(bound / 1000), fmt(w), fmt(f), ...(ninja ? [fmt(n)] : []), ninja ? (w <= n ? "meets" : "MISSES") : ""])
    }
  } finally {
    project.remove()
  }
  say(table(rows))
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { repeats: { type: "string" }, seed: { type: "string" } } })
  await main({
    ...(values.repeats === undefined ? {} : { repeats: Number(values.repeats) }),
    ...(values.seed === undefined ? {} : { seed: Number(values.seed) })
  })
}
