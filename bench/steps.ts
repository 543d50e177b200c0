/**
 * Engine overhead per step: no-op function steps in a random DAG (each step
 * waits for 0–3 earlier ones, fixed seed), run by weft's `run()` and by the
 * minimal Promise scheduler in `baseline.ts` on the same graph with the same
 * concurrency limit.
 *
 * Time is measured in this process, one scheduler at a time: warm-up runs (at
 * least 300,000 steps' worth, so the JIT has settled), then the timed repeats,
 * median. Runs follow each other without a forced GC, so each pays for
 * collecting its predecessor's garbage as it would in a long-lived process; a
 * forced full GC between runs leaves V8 with a tight old-generation limit and
 * billed the next run a full collection it would not otherwise need.
 * `Plan.make` (checking and laying out the workflow), which `run()` does
 * first, is also timed on its own, to show its share.
 *
 * Memory is measured in fresh child processes, one per size and kind, as peak
 * RSS (`process.resourceUsage().maxRSS`) minus that of an idle child that loads
 * the same modules and builds the same graph, divided by the number of steps.
 * weft's figure includes the workflow definition it needs (the `StepDef`s);
 * children that stop after the definition and after `Plan.make` show the
 * shares of each.
 *
 *   node bench/steps.ts [--sizes 10000,100000] [--repeats 5] [--concurrency 8] [--mem-repeats 3]
 *                       [--baseline-engine ../weft-main]
 *
 * `--baseline-engine DIR` runs the same graphs, in the same process and
 * children, with the weft checked out in DIR (a git worktree of main, say:
 * `git worktree add ../weft-main main`), and reports this engine against it,
 * in wall time and in CPU time (`process.cpuUsage`), which a loaded machine
 * disturbs less.
 *
 * Targets: at most 3× the minimal scheduler's time and 2 KB per step at 100,000 steps.
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import { makeStepDef, type StepDef } from "../dsl/Step.ts"
import { Workflow } from "../dsl/Workflow.ts"
import * as Plan from "../runtime/Plan.ts"
import { run } from "../runtime/Run.ts"
import { runMinimal } from "./baseline.ts"
import { randomDag, type Graph } from "./graph.ts"
import { fmt, median, table, timeRuns } from "./stats.ts"

const noop = () => undefined

/** What a step may cost, as the issue bounds it. */
const targets = { ratio: 3, bytesPerStep: 2048, atSize: 100_000 }

const warmupSteps = 300_000

/** The graph as a weft workflow: step `s<i>` needs its dependencies' outputs. */
export const toWorkflow = (graph: Graph, concurrency: number): Workflow<any> => {
  const defs: Array<StepDef> = graph.deps.map((ds, i) => makeStepDef(`s${i}`, { needs: ds.map((d) => `s${d}`) }, noop))
  return Workflow.make("bench-steps", { concurrency }, defs)
}

/** A weft to run the graphs with: this one, or the one in `--baseline-engine`'s folder. */
interface Engine {
  readonly toWorkflow: (graph: Graph, concurrency: number) => Workflow<any>
  readonly run: (wf: Workflow<any>) => Promise<{ readonly status: string; readonly outputs: object }>
}

const thisEngine: Engine = { toWorkflow: (graph, concurrency) => toWorkflow(graph, concurrency), run: (wf) => run(wf) }

/** The weft in `dir`: its own definition and its own `run`, so nothing of this one mixes in. */
const loadEngine = async (dir: string): Promise<Engine> => {
  const root = path.resolve(dir)
  const bench = (await import(pathToFileURL(path.join(root, "bench", "steps.ts")).href)) as { toWorkflow: Engine["toWorkflow"] }
  const runs = (await import(pathToFileURL(path.join(root, "runtime", "Run.ts")).href)) as { run: Engine["run"] }
  return { toWorkflow: bench.toWorkflow, run: runs.run }
}

const runWeft = async (wf: Workflow<any>, n: number, engine: Engine = thisEngine): Promise<void> => {
  const result = await engine.run(wf)
  if (result.status !== "succeeded" || Object.keys(result.outputs).length !== n) {
    throw new Error(`weft run ended ${result.status} with ${Object.keys(result.outputs).length} of ${n} outputs`)
  }
}

const runBaseline = async (graph: Graph, concurrency: number): Promise<void> => {
  let ran = 0
  await runMinimal(graph, concurrency, () => (ran++, noop()))
  if (ran !== graph.deps.length) throw new Error(`minimal scheduler ran ${ran} of ${graph.deps.length} steps`)
}

/** Milliseconds per run of `f` (which handles `n` steps): warm-up runs, then `repeats` timed ones. */
const time = async (f: () => Promise<void> | void, n: number, repeats: number): Promise<Array<number>> => {
  for (let done = 0, runs = 0; done < warmupSteps || runs < 2; done += n, runs++) await f()
  return timeRuns(f, repeats)
}

/** What a memory child does after building the graph: nothing, or up to a stage of weft, or the minimal run. */
const childKinds = ["idle", "definition", "plan", "weft", "minimal"] as const
type ChildKind = (typeof childKinds)[number]

/** Child mode: build the graph, do `kind` (with the engine in `engineDir`, if given), print peak RSS in KB. */
const child = async (kind: ChildKind, n: number, concurrency: number, engineDir: string | undefined): Promise<void> => {
  const engine = engineDir === undefined ? thisEngine : await loadEngine(engineDir)
  const graph = randomDag(n)
  const keep: Array<unknown> = []
  if (kind === "definition" || kind === "plan") keep.push(toWorkflow(graph, concurrency))
  if (kind === "plan") keep.push(Plan.make(keep[0] as Workflow<any>))
  if (kind === "weft") await runWeft(engine.toWorkflow(graph, concurrency), n, engine)
  if (kind === "minimal") await runBaseline(graph, concurrency)
  process.stdout.write(JSON.stringify({ maxRSSKB: process.resourceUsage().maxRSS, kept: keep.length }))
}

const self = fileURLToPath(import.meta.url)

const peakRssKB = (kind: ChildKind, n: number, concurrency: number, engineDir?: string): number => {
  const engine = engineDir === undefined ? [] : ["--engine", engineDir]
  const out = spawnSync(process.execPath, [self, "--child", kind, String(n), String(concurrency), ...engine], { encoding: "utf8" })
  if (out.status !== 0) throw new Error(`child ${kind} ${n} failed:\n${out.stderr}`)
  return (JSON.parse(out.stdout) as { maxRSSKB: number }).maxRSSKB
}

export interface StepsOptions {
  readonly sizes?: ReadonlyArray<number>
  readonly repeats?: number
  readonly memRepeats?: number
  readonly concurrency?: number
  /** A folder holding another weft (main's worktree) to compare with. */
  readonly baselineEngine?: string | undefined
}

/** Milliseconds of CPU (user + system) per run of `f`, after the same warm-up as `time`. */
const cpuTime = async (f: () => Promise<void> | void, n: number, repeats: number): Promise<Array<number>> => {
  for (let done = 0, runs = 0; done < warmupSteps || runs < 2; done += n, runs++) await f()
  const ms: Array<number> = []
  for (let r = 0; r < repeats; r++) {
    const before = process.cpuUsage()
    await f()
    const used = process.cpuUsage(before)
    ms.push((used.user + used.system) / 1000)
  }
  return ms
}

const count = (n: number) => n.toLocaleString("en")

export const main = async (options: StepsOptions = {}): Promise<void> => {
  const { sizes = [10_000, 100_000], repeats = 5, memRepeats = 3, concurrency = 8 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  say(`steps: no-op function steps in a random DAG (0-3 deps each, seed 42), concurrency ${concurrency}`)
  say(`  time: median of ${repeats} in-process runs, one scheduler at a time, each after >= ${count(warmupSteps)} steps of warm-up, no forced GC`)
  say(`  memory: median of ${memRepeats} fresh child processes each: (peak RSS - peak RSS of an idle child that loads the same modules and builds the same graph) / steps`)
  say(`  targets at ${count(targets.atSize)} steps: <= ${targets.ratio}x the minimal scheduler, <= ${targets.bytesPerStep / 1024} KB/step`)
  const rows = [["steps", "weft us/step", "(Plan.make)", "minimal us/step", "ratio", "weft KB/step", "(definition, +plan)", "minimal KB/step"]]
  for (const n of sizes) {
    const graph = randomDag(n)
    const wf = toWorkflow(graph, concurrency)
    const weftMs = await time(() => runWeft(wf, n), n, repeats)
    const planMs = await time(() => void Plan.make(wf), n, repeats)
    const minimalMs = await time(() => runBaseline(graph, concurrency), n, repeats)
    const perStep = (ms: ReadonlyArray<number>) => (median(ms) * 1000) / n
    const [weftUs, planUs, minimalUs] = [perStep(weftMs), perStep(planMs), perStep(minimalMs)]

    const rss = Object.fromEntries(
      childKinds.map((kind) => [kind, median(Array.from({ length: memRepeats }, () => peakRssKB(kind, n, concurrency)))])
    ) as Record<ChildKind, number>
    const kbPerStep = (kind: ChildKind) => (rss[kind] - rss.idle) / n
    const weftKB = kbPerStep("weft")

    rows.push([
      count(n),
      fmt(weftUs),
      fmt(planUs),
      fmt(minimalUs),
      `${fmt(weftUs / minimalUs)}x`,
      fmt(weftKB),
      `${fmt(kbPerStep("definition"))}, ${fmt(kbPerStep("plan"))}`,
      fmt(kbPerStep("minimal"))
    ])
    const verdict = n === targets.atSize
      ? `; ${weftUs / minimalUs <= targets.ratio ? "meets" : "MISSES"} the time target, ${weftKB * 1024 <= targets.bytesPerStep ? "meets" : "MISSES"} the memory target`
      : ""
    say(`  ${count(n)} steps: weft ${weftMs.map((ms) => fmt(ms)).join(", ")} ms; minimal ${minimalMs.map((ms) => fmt(ms)).join(", ")} ms${verdict}`)
  }
  say(table(rows))
  if (options.baselineEngine !== undefined) await compareEngines(options.baselineEngine, sizes, repeats, memRepeats, concurrency, say)
  say(`  (Plan.make): part of weft's time spent checking and laying out the workflow; (definition, +plan): peak KB/step after building the StepDefs, then after Plan.make too`)
}

/**
 * This engine against the one in `dir` on the same graphs: wall and CPU time
 * per step (each engine timed on its own, after its own warm-up), and peak
 * memory per step in fresh children.
 */
const compareEngines = async (
  dir: string,
  sizes: ReadonlyArray<number>,
  repeats: number,
  memRepeats: number,
  concurrency: number,
  say: (text: string) => void
): Promise<void> => {
  const baseline = await loadEngine(dir)
  say(`  against the engine in ${dir} (same graphs, same process; memory in fresh children):`)
  const rows = [["steps", "this us/step", "baseline us/step", "ratio", "this CPU us/step", "baseline CPU us/step", "CPU ratio", "this KB/step", "baseline KB/step"]]
  for (const n of sizes) {
    const graph = randomDag(n)
    const mine = toWorkflow(graph, concurrency)
    const theirs = baseline.toWorkflow(graph, concurrency)
    const perStep = (ms: ReadonlyArray<number>) => (median(ms) * 1000) / n
    const wall = [perStep(await time(() => runWeft(mine, n), n, repeats)), perStep(await time(() => runWeft(theirs, n, baseline), n, repeats))]
    const cpu = [perStep(await cpuTime(() => runWeft(mine, n), n, repeats)), perStep(await cpuTime(() => runWeft(theirs, n, baseline), n, repeats))]
    const kb = (engineDir?: string) => {
      // The idle child loads the same engine: its modules are not the run's memory.
      const idle = median(Array.from({ length: memRepeats }, () => peakRssKB("idle", n, concurrency, engineDir)))
      return (median(Array.from({ length: memRepeats }, () => peakRssKB("weft", n, concurrency, engineDir))) - idle) / n
    }
    rows.push([count(n), fmt(wall[0]!), fmt(wall[1]!), `${fmt(wall[0]! / wall[1]!)}x`, fmt(cpu[0]!), fmt(cpu[1]!), `${fmt(cpu[0]! / cpu[1]!)}x`, fmt(kb()), fmt(kb(dir))])
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
      concurrency: { type: "string" },
      "baseline-engine": { type: "string" },
      engine: { type: "string" }
    }
  })
  if (values.child !== undefined) {
    await child(values.child as ChildKind, Number(positionals[0]), Number(positionals[1]), values.engine)
  } else {
    await main({
      ...(values.sizes === undefined ? {} : { sizes: values.sizes.split(",").map(Number) }),
      ...(values.repeats === undefined ? {} : { repeats: Number(values.repeats) }),
      ...(values["mem-repeats"] === undefined ? {} : { memRepeats: Number(values["mem-repeats"]) }),
      ...(values.concurrency === undefined ? {} : { concurrency: Number(values.concurrency) }),
      baselineEngine: values["baseline-engine"]
    })
  }
}
