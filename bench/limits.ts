/**
 * What issue 5's features cost, each against the same work without the
 * feature, in the same run:
 *
 * (a) Resources: a random DAG (as in `steps.ts`, seed 42) of no-op function
 * steps, concurrency 8, plain vs with `resources: { db: 2, gpu: 4 }` on the
 * workflow and `{ db: 1, gpu: 1 }` asked by every third step, so the
 * scheduler checks demands and passes over blocked steps; and with the same
 * demands of capacities never short (`1e6`), the bookkeeping alone.
 * (b) Rate limits: independent no-op steps, concurrency = steps, plain vs each
 * taking a start from a limiter so generous it never waits (1e9 per second):
 * the bookkeeping alone.
 * (c) The static race check: `raceCheck(Plan.make(wf))` of a chain of steps
 * declaring `permissions.read`/`write` (every 100th writes `dist/<i>/**` and
 * reads `src/**`, the others read their predecessor's `dist/<i-1>/x`; two
 * racing writers at the end), as in `raceCheck.test.ts`, vs `Plan.make` alone.
 * (d) Isolation: a one-step workflow whose function step runs with
 * `permissions: { isolate: true }` (a child Node process under the
 * permission model) vs the same step in-process. The workflow is written to
 * a temporary file, which the child imports. For scale, in the same turns:
 * spawning `node -e ""`, and a node that only imports weft's `index.ts`.
 * (e) Secret masking: a step logging lines through `ctx.log` (every 1,000th
 * holding the secret's value), with `permissions: { env: [secret("BENCH_TOKEN")] }`
 * vs without permissions.
 *
 * Time is real time in this process, through `run()`. Every side of a
 * comparison is warmed up first, then they are timed in turns (feature, baseline, feature, …)
 * so that load from elsewhere on the machine falls on both; the medians are
 * compared. No forced GC, as in `steps.ts`.
 *
 *   node bench/limits.ts [--quick] [--steps 10000] [--lines 100000] [--repeats 7] [--isolate-repeats 5] [--log-repeats 15]
 *
 * `--quick`: 3 repeats of everything (a smoke test).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { parseArgs } from "node:util"
import { secret } from "../dsl/Permissions.ts"
import { makeStepDef, type StepDef, type StepOptions } from "../dsl/Step.ts"
import { Workflow, type WorkflowOptions } from "../dsl/Workflow.ts"
import type { Event } from "../runtime/Event.ts"
import { weftRoot } from "../runtime/permissions/isolate.ts"
import * as Plan from "../runtime/Plan.ts"
import { raceCheck } from "../runtime/raceCheck.ts"
import { run, type RunOptions } from "../runtime/Run.ts"
import { randomDag } from "./graph.ts"
import { fmt, median, table } from "./stats.ts"

const noop = () => undefined
const off: RunOptions = { cache: { mode: "off" } }

/** Steps' worth of warm-up for each side of a pair, so the JIT has settled. */
const warmupSteps = 100_000

const runChecked = async (wf: Workflow<any>, n: number, options: RunOptions = off) => {
  const result = await run(wf, options)
  if (result.status !== "succeeded" || Object.keys(result.outputs).length !== n) {
    const failed = Object.entries(result.steps).find(([, s]) => s.status !== "succeeded")
    throw new Error(`${wf.name} ended ${result.status} with ${Object.keys(result.outputs).length} of ${n} outputs${failed ? `; ${failed[0]}: ${failed[1].error}` : ""}`)
  }
  return result
}

/** Milliseconds of `repeats` runs of each of `fs`, taking turns, after `warmup` runs of each. */
const alternate = async (fs: ReadonlyArray<() => Promise<unknown> | unknown>, warmup: number, repeats: number): Promise<Array<Array<number>>> => {
  for (const f of fs) for (let i = 0; i < warmup; i++) await f()
  const times = fs.map((): Array<number> => [])
  for (let r = 0; r < repeats; r++) {
    for (const [k, f] of fs.entries()) {
      const t0 = performance.now()
      await f()
      times[k]!.push(performance.now() - t0)
    }
  }
  return times
}

/** `alternate` of a feature and its baseline. */
const pair = async (feature: () => Promise<unknown> | unknown, baseline: () => Promise<unknown> | unknown, warmup: number, repeats: number) => {
  const [f, b] = await alternate([feature, baseline], warmup, repeats)
  return { feature: f!, baseline: b! }
}

const warmupRuns = (n: number) => Math.max(2, Math.ceil(warmupSteps / n))

const dagWorkflow = (n: number, options: WorkflowOptions, stepOptions: (i: number) => StepOptions<string, string>): Workflow<any> => {
  const graph = randomDag(n)
  const defs: Array<StepDef> = graph.deps.map((ds, i) => makeStepDef(`s${i}`, { needs: ds.map((d) => `s${d}`), ...stepOptions(i) }, noop))
  return Workflow.make("bench-limits", { concurrency: 8, ...options }, defs)
}

const independent = (n: number, options: WorkflowOptions, stepOptions: StepOptions<string, string>): Workflow<any> =>
  Workflow.make("bench-limits", { concurrency: n, ...options }, Array.from({ length: n }, (_, i) => makeStepDef(`s${i}`, stepOptions, noop)))

/** The shape of `raceCheck.test.ts`'s 10,000-step test. */
const raceWorkflow = (n: number): Workflow<any> => {
  const defs: Array<StepDef> = []
  for (let i = 0; i < n; i++) {
    const needs = i === 0 ? [] : [`s${i - 1}`]
    const permissions = i % 100 === 0 ? { write: [`dist/${i}/**`], read: ["src/**"] } : { read: [`dist/${i - 1}/x`] }
    defs.push(makeStepDef(`s${i}`, { needs, permissions }, () => i))
  }
  defs.push(makeStepDef("x", { permissions: { write: ["gen/**"] } }, () => 1), makeStepDef("y", { permissions: { write: ["gen/a"] } }, () => 2))
  return Workflow.make("bench-race", {}, defs)
}

/** Writes a one-step workflow module that imports weft, and returns it loaded. */
const workflowFile = async (dir: string, name: string, isolate: boolean): Promise<{ file: string; wf: Workflow<any> }> => {
  const file = path.join(dir, `${name}.ts`)
  writeFileSync(file, [
    `import { workflow } from ${JSON.stringify(path.join(weftRoot, "index.ts"))}`,
    `export default workflow(${JSON.stringify(name)}).step("s", ${isolate ? "{ permissions: { isolate: true } }, " : ""}() => process.pid)`
  ].join("\n"))
  return { file, wf: (await import(file)).default }
}

/** What `--quick` (and `npm run bench -- --quick`) runs. */
export const quick: LimitsOptions = { repeats: 3, isolateRepeats: 3, logRepeats: 3 }

export interface LimitsOptions {
  readonly steps?: number
  readonly lines?: number
  readonly repeats?: number
  readonly isolateRepeats?: number
  /** Repeats of the logging step: its difference is small against the noise of 100,000 events' garbage. */
  readonly logRepeats?: number
}

const count = (n: number) => n.toLocaleString("en")

export const main = async (options: LimitsOptions = {}): Promise<void> => {
  const { steps = 10_000, lines = 100_000, repeats = 7, isolateRepeats = 5, logRepeats = 15 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  const list = (ms: ReadonlyArray<number>) => ms.map((x) => fmt(x)).join(", ")
  say(`limits: issue 5's features, each vs the same work without it; median of ${repeats} (isolate: ${isolateRepeats}, logging: ${logRepeats}), timed alternately after warm-up, in-process run()`)
  const rows = [["what", "with the feature", "without (same run)", "ratio"]]

  // (a) Resources: as asked, then the same demands with room for all, to tell bookkeeping from waiting.
  const plainDag = dagWorkflow(steps, {}, () => ({}))
  const demands = (i: number) => (i % 3 === 0 ? { resources: { db: 1, gpu: 1 } } : {})
  const tightDag = dagWorkflow(steps, { resources: { db: 2, gpu: 4 } }, demands)
  const ampleDag = dagWorkflow(steps, { resources: { db: 1_000_000, gpu: 1_000_000 } }, demands)
  const [tight, ample, plainRes] = await alternate([tightDag, ampleDag, plainDag].map((wf) => () => runChecked(wf, steps)), warmupRuns(steps), repeats)
  const usPerStep = (ms: ReadonlyArray<number>) => (median(ms) * 1000) / steps
  say(`  resources, ${count(steps)}-step random DAG, concurrency 8, every 3rd step asks { db: 1, gpu: 1 }:`)
  say(`    of { db: 2, gpu: 4 }: ${list(tight!)} ms; of { db: 1e6, gpu: 1e6 } (never short): ${list(ample!)} ms; no resources: ${list(plainRes!)} ms`)
  rows.push([`resources { db: 2, gpu: 4 } (${count(steps)} steps), us/step`, fmt(usPerStep(tight!)), fmt(usPerStep(plainRes!)), `${fmt(median(tight!) / median(plainRes!))}x`])
  rows.push([`  same demands, capacity never short, us/step`, fmt(usPerStep(ample!)), fmt(usPerStep(plainRes!)), `${fmt(median(ample!) / median(plainRes!))}x`])

  // (b) Rate limits.
  const plainWide = independent(steps, {}, {})
  const limitedWide = independent(steps, { rateLimits: { bench: { limit: 1e9, per: "1 second" } } }, { rateLimit: "bench" })
  const rate = await pair(() => runChecked(limitedWide, steps), () => runChecked(plainWide, steps), warmupRuns(steps), repeats)
  say(`  rate limit, ${count(steps)} independent steps, concurrency ${count(steps)}, a limiter of 1e9 per 1 s (never waits): ${list(rate.feature)} ms; plain ${list(rate.baseline)} ms`)
  rows.push([`rateLimit (${count(steps)} steps), us/step`, fmt(usPerStep(rate.feature)), fmt(usPerStep(rate.baseline)), `${fmt(median(rate.feature) / median(rate.baseline))}x`])

  // (c) The static race check.
  const raceWf = raceWorkflow(steps)
  const check = raceCheck(Plan.make(raceWf))
  const found = check.conflicts.map((c) => `${c.a}/${c.b}`).join(", ")
  if (!check.complete || found !== "x/y") throw new Error(`race check: complete ${check.complete}, conflicts ${found}`)
  const race = await pair(() => raceCheck(Plan.make(raceWf)), () => Plan.make(raceWf), 5, repeats)
  const [raceMs, planMs] = [median(race.feature), median(race.baseline)]
  say(`  race check, a ${count(steps + 2)}-step chain declaring read/write paths (${steps / 100} writers), complete, finds x/y: raceCheck(Plan.make) ${list(race.feature)} ms; Plan.make ${list(race.baseline)} ms`)
  say(`    so the check itself: ~${fmt(raceMs - planMs)} ms; target (informal, the issue): cheap enough to run before every run`)
  rows.push([`raceCheck(Plan.make) (${count(steps + 2)} steps), ms`, fmt(raceMs), fmt(planMs), `${fmt(raceMs / planMs)}x`])

  // (d) Isolation.
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), "weft-bench-limits-")))
  try {
    const isolated = await workflowFile(dir, "isolated", true)
    const inProcess = await workflowFile(dir, "inprocess", false)
    const runFile = async (it: { file: string; wf: Workflow<any> }, elsewhere: boolean) => {
      const result = await runChecked(it.wf, 1, { ...off, cwd: dir, file: it.file })
      if ((result.outputs.s !== process.pid) === elsewhere) return
      throw new Error(`the ${elsewhere ? "isolated" : "in-process"} step ran in pid ${result.outputs.s} (this is ${process.pid})`)
    }
    // Where a child's start-up goes: Node itself, then loading weft (which the workflow file imports).
    const node = (args: ReadonlyArray<string>) => {
      const child = spawnSync(process.execPath, args, { stdio: "ignore" })
      if (child.status !== 0) throw new Error(`node ${args.join(" ")} exited ${child.status}`)
    }
    const loadWeft = ["--input-type=module", "-e", `await import(${JSON.stringify(pathToFileURL(path.join(weftRoot, "index.ts")).href)})`]
    const [iso, inproc, bare, loaded] = await alternate(
      [() => runFile(isolated, true), () => runFile(inProcess, false), () => node(["-e", ""]), () => node(loadWeft)],
      2,
      isolateRepeats
    )
    say(`  isolate: a one-step workflow file, the step isolate: true (a child node) vs in-process: ${list(iso!)} ms; in-process ${list(inproc!)} ms`)
    say(`    for scale, spawnSync of node -e "": ${list(bare!)} ms; of node importing weft's index.ts: ${list(loaded!)} ms`)
    rows.push(["isolate: true, one function step, ms", fmt(median(iso!)), fmt(median(inproc!)), `${fmt(median(iso!) / median(inproc!))}x`])
    rows.push(["  (node -e \"\"; node importing weft), ms", `(${fmt(median(bare!))}; ${fmt(median(loaded!))})`, "", ""])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }

  // (e) Secret masking.
  const token = "bench-5f3a9c1e7b2d4086a1c3e5f7b9d2"
  const saved = process.env.BENCH_TOKEN
  process.env.BENCH_TOKEN = token
  try {
    const logging = (permissions: StepOptions<string, string>) =>
      Workflow.make("bench-secret", {}, [makeStepDef("log", permissions, (_: unknown, ctx: { log: (...args: Array<unknown>) => void }) => {
        for (let i = 0; i < lines; i++) ctx.log(i % 1000 === 0 ? `line ${i}: token=${token} sent` : `line ${i}: nothing to hide here, just output`)
      })])
    const masked = logging({ permissions: { env: [secret("BENCH_TOKEN")] } })
    const plain = logging({})
    // Checked once, outside the timing: every line arrives, the token only masked.
    const shown = async (wf: Workflow<any>) => {
      const texts: Array<string> = []
      await runChecked(wf, 1, { ...off, onEvent: (e: Event) => void (e.type === "step:log" && texts.push(e.text)) })
      if (texts.length !== lines) throw new Error(`${texts.length} of ${lines} log lines arrived`)
      return texts.filter((t) => t.includes(token)).length
    }
    const leaked = await shown(masked)
    const unmasked = await shown(plain)
    if (leaked !== 0 || unmasked !== Math.ceil(lines / 1000)) throw new Error(`secret shown in ${leaked} lines masked, ${unmasked} unmasked`)
    const sec = await pair(() => runChecked(masked, 1), () => runChecked(plain, 1), 3, logRepeats)
    say(`  secret masking: one step, ${count(lines)} ctx.log lines (every 1,000th holds the 32-char secret), env: [secret("BENCH_TOKEN")] vs no permissions: ${list(sec.feature)} ms; unmasked ${list(sec.baseline)} ms`)
    rows.push([`secret masking, ${count(lines)} ctx.log lines, ms`, fmt(median(sec.feature)), fmt(median(sec.baseline)), `${fmt(median(sec.feature) / median(sec.baseline))}x`])
  } finally {
    if (saved === undefined) delete process.env.BENCH_TOKEN
    else process.env.BENCH_TOKEN = saved
  }
  say(table(rows))
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      steps: { type: "string" },
      lines: { type: "string" },
      repeats: { type: "string" },
      "isolate-repeats": { type: "string" },
      "log-repeats": { type: "string" }
    }
  })
  await main({
    ...(values.quick === true ? quick : {}),
    ...(values.steps === undefined ? {} : { steps: Number(values.steps) }),
    ...(values.lines === undefined ? {} : { lines: Number(values.lines) }),
    ...(values.repeats === undefined ? {} : { repeats: Number(values.repeats) }),
    ...(values["isolate-repeats"] === undefined ? {} : { isolateRepeats: Number(values["isolate-repeats"]) }),
    ...(values["log-repeats"] === undefined ? {} : { logRepeats: Number(values["log-repeats"]) })
  })
}
