/**
 * Engine overhead per step: no-op function steps in a random DAG (each step
 * waits for 0–3 earlier ones, fixed seed), run by weft's `run()` and by the
 * minimal Promise scheduler in `baseline.ts` on the same graph with the same
 * concurrency limit.
 *
 * Time is measured in this process (a warm-up, then alternating repeats,
 * median). Memory is measured in fresh child processes, one per size and
 * scheduler, as peak RSS (`process.resourceUsage().maxRSS`) minus that of an
 * idle child that loads the same modules and builds the same graph, divided by
 * the number of steps.
 *
 *   node bench/steps.ts [--sizes 10000,100000] [--repeats 5] [--concurrency 8] [--mem-repeats 3]
 *
 * Targets: at most 3× the minimal scheduler's time and 2 KB per step at 100,000 steps.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { parseArgs } from "node:util"
import { makeStepDef, type StepDef } from "../dsl/Step.ts"
import { Workflow } from "../dsl/Workflow.ts"
import { run } from "../runtime/Run.ts"
import { runMinimal } from "./baseline.ts"
import { randomDag, type Graph } from "./graph.ts"
import { fmt, median, table } from "./stats.ts"

const noop = () => undefined

/** What a step costs us, as the issue asks to bound it. */
const targets = { ratio: 3, bytesPerStep: 2048, atSize: 100_000 }

/** The graph as a weft workflow: step `s<i>` needs its dependencies' outputs. */
export const toWorkflow = (graph: Graph, concurrency: number): Workflow<any> => {
  const defs: Array<StepDef> = graph.deps.map((ds, i) => makeStepDef(`s${i}`, { needs: ds.map((d) => `s${d}`) }, noop))
  return Workflow.make("bench-steps", { concurrency }, defs)
}

const runWeft = async (wf: Workflow<any>, n: number): Promise<void> => {
  const result = await run(wf)
  if (result.status !== "succeeded" || Object.keys(result.outputs).length !== n) {
    throw new Error(`weft run ended ${result.status} with ${Object.keys(result.outputs).length} of ${n} outputs`)
  }
}

const runBaseline = async (graph: Graph, concurrency: number): Promise<void> => {
  let ran = 0
  await runMinimal(graph, concurrency, () => (ran++, noop()))
  if (ran !== graph.deps.length) throw new Error(`minimal scheduler ran ${ran} of ${graph.deps.length} steps`)
}

/** A full collection between measurements, so one run's garbage is not billed to the next. */
const gc: () => void = (() => {
  setFlagsFromString("--expose-gc")
  return runInNewContext("gc") as () => void
})()

const time = async (f: () => Promise<void>): Promise<number> => {
  gc()
  const t0 = performance.now()
  await f()
  return performance.now() - t0
}

type ChildKind = "idle" | "weft" | "minimal"

/** Child mode: build the graph, run it once with `kind`, print peak RSS in KB. */
const child = async (kind: ChildKind, n: number, concurrency: number): Promise<void> => {
  const graph = randomDag(n)
  if (kind === "weft") await runWeft(toWorkflow(graph, concurrency), n)
  if (kind === "minimal") await runBaseline(graph, concurrency)
  process.stdout.write(JSON.stringify({ maxRSSKB: process.resourceUsage().maxRSS }))
}

const self = fileURLToPath(import.meta.url)

const peakRssKB = (kind: ChildKind, n: number, concurrency: number): number => {
  const out = spawnSync(process.execPath, [self, "--child", kind, String(n), String(concurrency)], { encoding: "utf8" })
  if (out.status !== 0) throw new Error(`child ${kind} ${n} failed:\n${out.stderr}`)
  return (JSON.parse(out.stdout) as { maxRSSKB: number }).maxRSSKB
}

export interface StepsOptions {
  readonly sizes?: ReadonlyArray<number>
  readonly repeats?: number
  readonly memRepeats?: number
  readonly concurrency?: number
}

export const main = async (options: StepsOptions = {}): Promise<void> => {
  const { sizes = [10_000, 100_000], repeats = 5, memRepeats = 3, concurrency = 8 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  say(`steps: no-op function steps in a random DAG (0-3 deps each, seed 42), concurrency ${concurrency}`)
  say(`  time: median of ${repeats} in-process runs after a warm-up, weft and the minimal Promise scheduler alternating`)
  say(`  memory: median of ${memRepeats} fresh child processes each; (peak RSS of the run - peak RSS of an idle child that loads the same modules and builds the same graph) / steps`)
  say(`  targets at ${targets.atSize.toLocaleString("en")} steps: <= ${targets.ratio}x the minimal scheduler, <= ${targets.bytesPerStep / 1024} KB/step`)
  const rows: Array<Array<string>> = [["steps", "weft us/step", "minimal us/step", "ratio", "weft KB/step", "minimal KB/step"]]
  for (const n of sizes) {
    const graph = randomDag(n)
    const wf = toWorkflow(graph, concurrency)
    await runWeft(wf, n)
    await runBaseline(graph, concurrency)
    const weftMs: Array<number> = []
    const minimalMs: Array<number> = []
    for (let r = 0; r < repeats; r++) {
      weftMs.push(await time(() => runWeft(wf, n)))
      minimalMs.push(await time(() => runBaseline(graph, concurrency)))
    }
    const memory = (kind: ChildKind) => median(Array.from({ length: memRepeats }, () => peakRssKB(kind, n, concurrency)))
    const idle = memory("idle")
    const weftKB = (memory("weft") - idle) / n
    const minimalKB = (memory("minimal") - idle) / n
    const weftUs = (median(weftMs) * 1000) / n
    const minimalUs = (median(minimalMs) * 1000) / n
    rows.push([n.toLocaleString("en"), fmt(weftUs), fmt(minimalUs), `${fmt(weftUs / minimalUs)}x`, fmt(weftKB), fmt(minimalKB)])
    const verdict = n === targets.atSize
      ? `  ${weftUs / minimalUs <= targets.ratio ? "meets" : "MISSES"} time target, ${weftKB * 1024 <= targets.bytesPerStep ? "meets" : "MISSES"} memory target`
      : ""
    say(`  ${n.toLocaleString("en")} steps: weft ${weftMs.map((ms) => fmt(ms)).join(", ")} ms; minimal ${minimalMs.map((ms) => fmt(ms)).join(", ")} ms${verdict}`)
  }
  say(table(rows))
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      child: { type: "string" },
      sizes: { type: "string" },
      repeats: { type: "string" },
      "mem-repeats": { type: "string" },
      concurrency: { type: "string" }
    }
  })
  if (values.child !== undefined) {
    await child(values.child as ChildKind, Number(positionals[0]), Number(positionals[1]))
  } else {
    await main({
      ...(values.sizes === undefined ? {} : { sizes: values.sizes.split(",").map(Number) }),
      ...(values.repeats === undefined ? {} : { repeats: Number(values.repeats) }),
      ...(values["mem-repeats"] === undefined ? {} : { memRepeats: Number(values["mem-repeats"]) }),
      ...(values.concurrency === undefined ? {} : { concurrency: Number(values.concurrency) })
    })
  }
}
