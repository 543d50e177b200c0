/**
 * 100,000 no-op steps, cold: what a user's first (and only) run in a fresh
 * process costs, not the warmed-up figure of bench/steps.ts. Each
 * measurement is a new Node process that loads weft, takes a spec's data (as
 * a JSON parser hands it over: 100,000 steps, each after 0–3 earlier ones,
 * seed 42), builds the workflow with `fromSpec`, and runs it with every
 * step's command replaced by a no-op function (so that the engine, not
 * 100,000 processes, is measured). Beside it, in the same way, the minimal
 * Promise scheduler (bench/baseline.ts) over the same graph, cold.
 *
 * Reported: `fromSpec` and the run, in milliseconds; the whole against the
 * minimal scheduler's; peak RSS per step above an idle process that loaded
 * the same modules and made the same spec data. Beside them, the warm
 * figures: the same measurement again in the same process.
 *
 *   node bench/cold.ts [--steps 100000] [--repeats 3]
 *
 * Targets (issue 14): the whole <= 10x the minimal scheduler cold, <= 2 KB/step.
 */
import { spawnSync } from "node:child_process"
import { loadavg } from "node:os"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { fromSpec, type Spec } from "../dsl/Spec.ts"
import { makeStepDef } from "../dsl/Step.ts"
import { Workflow } from "../dsl/Workflow.ts"
import { run } from "../runtime/Run.ts"
import { runMinimal } from "./baseline.ts"
import { randomDag } from "./graph.ts"
import { fmt, median, table } from "./stats.ts"

const targets = { ratio: 10, bytesPerStep: 2048 }
const concurrency = 8
const noop = () => undefined

const specOf = (n: number): Spec => {
  const graph = randomDag(n)
  return { name: "bench-cold", concurrency, steps: graph.deps.map((ds, i) => ({ id: `s${i}`, run: "true", after: ds.map((d) => `s${d}`) })) }
}

type Kind = "idle" | "weft" | "minimal"

interface Timing {
  readonly fromSpecMs: number
  readonly runMs: number
}

interface ChildReport extends Timing {
  /** Peak RSS after the cold measurement, before the warm one. */
  readonly maxRSSKB: number
  /** The same again in the same process: the warm figure beside the cold one. */
  readonly warm: Timing
}

const measure = async (kind: Kind, n: number, spec: Spec): Promise<Timing> => {
  if (kind === "weft") {
    const t0 = performance.now()
    const built = fromSpec(spec)
    const t1 = performance.now()
    const wf = Workflow.make(built.name, built.options, built.steps.map((def) => makeStepDef(def.id, { after: def.after }, noop, [])))
    const result = await run(wf)
    if (result.status !== "succeeded") throw new Error(`weft run ended ${result.status}`)
    return { fromSpecMs: t1 - t0, runMs: performance.now() - t1 }
  }
  if (kind === "minimal") {
    const graph = randomDag(n)
    const t0 = performance.now()
    let ran = 0
    await runMinimal(graph, concurrency, () => (ran++, noop()))
    if (ran !== n) throw new Error(`minimal scheduler ran ${ran} of ${n}`)
    return { fromSpecMs: 0, runMs: performance.now() - t0 }
  }
  return { fromSpecMs: 0, runMs: 0 }
}

const child = async (kind: Kind, n: number): Promise<void> => {
  // Every kind makes the spec data and holds it to the end, as a JSON parser's caller would: the idle process's peak counts it too.
  const spec = specOf(n)
  const cold = await measure(kind, n, spec)
  const maxRSSKB = process.resourceUsage().maxRSS
  const warm = await measure(kind, n, spec)
  // Read after both measurements: the spec stays alive through them.
  if (spec.steps.length !== n) throw new Error(`the spec has ${spec.steps.length} steps, not ${n}`)
  process.stdout.write(JSON.stringify({ ...cold, maxRSSKB, warm } satisfies ChildReport))
}

const self = fileURLToPath(import.meta.url)

const inChild = (kind: Kind, n: number): ChildReport => {
  const out = spawnSync(process.execPath, ["--conditions=weft-source", self, "--child", kind, "--steps", String(n)], { encoding: "utf8", maxBuffer: 1 << 20 })
  if (out.status !== 0) throw new Error(`cold child ${kind} failed:\n${out.stderr}`)
  return JSON.parse(out.stdout) as ChildReport
}

export const main = async (options: { readonly steps?: number; readonly repeats?: number } = {}): Promise<void> => {
  const { steps = 100_000, repeats = 3 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  say(`cold: ${steps.toLocaleString("en")} no-op steps from fromSpec (0-3 deps, seed 42, concurrency ${concurrency}), each measurement a fresh process, median of ${repeats}; load average ${loadavg().map((l) => l.toFixed(2)).join(", ")}`)
  say(`  targets: fromSpec + run <= ${targets.ratio}x the minimal scheduler cold; <= ${targets.bytesPerStep / 1024} KB/step`)
  const reports: Record<Kind, Array<ChildReport>> = { idle: [], weft: [], minimal: [] }
  // In turns, so that a change in load falls on each alike.
  for (let r = 0; r < repeats; r++) for (const kind of ["idle", "weft", "minimal"] as const) reports[kind].push(inChild(kind, steps))
  const med = (kind: Kind, f: (r: ChildReport) => number) => median(reports[kind].map(f))
  const [fromSpecMs, runMs, minimalMs] = [med("weft", (r) => r.fromSpecMs), med("weft", (r) => r.runMs), med("minimal", (r) => r.runMs)]
  const kbPerStep = (kind: Kind) => (med(kind, (r) => r.maxRSSKB) - med("idle", (r) => r.maxRSSKB)) / steps
  const ratio = (fromSpecMs + runMs) / minimalMs
  const [warmFromSpecMs, warmRunMs, warmMinimalMs] = [med("weft", (r) => r.warm.fromSpecMs), med("weft", (r) => r.warm.runMs), med("minimal", (r) => r.warm.runMs)]
  say(table([
    ["", "fromSpec, ms", "run, ms", "whole / minimal", "KB/step", ""],
    ["weft, cold", fmt(fromSpecMs), fmt(runMs), `${fmt(ratio)}x`, fmt(kbPerStep("weft")), `${ratio <= targets.ratio ? "meets" : "MISSES"} ${targets.ratio}x; ${kbPerStep("weft") * 1024 <= targets.bytesPerStep ? "meets" : "MISSES"} 2 KB`],
    ["minimal scheduler, cold", "", fmt(minimalMs), "", fmt(kbPerStep("minimal")), ""],
    ["weft, warm (the same again, same process)", fmt(warmFromSpecMs), fmt(warmRunMs), `${fmt((warmFromSpecMs + warmRunMs) / warmMinimalMs)}x`, "", ""],
    ["minimal scheduler, warm", "", fmt(warmMinimalMs), "", "", ""]
  ]))
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { child: { type: "string" }, steps: { type: "string" }, repeats: { type: "string" } } })
  const steps = values.steps === undefined ? undefined : Number(values.steps)
  if (values.child !== undefined) await child(values.child as Kind, steps ?? 100_000)
  else await main({ ...(steps === undefined ? {} : { steps }), ...(values.repeats === undefined ? {} : { repeats: Number(values.repeats) }) })
}
