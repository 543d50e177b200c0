/**
 * What building a workflow from a spec costs (issue 10, item 11), against the
 * builder making the same graph, in the same run:
 *
 * - a chain of `--steps` steps (100,000), each needing the one before;
 * - `--steps` steps each needing up to 10 earlier ones (chosen at random, seed 42);
 * - the chain listed in reverse, which only a spec can take (it must sort).
 *
 * Every step runs the shell command `true` on both sides (`shell("true")` in
 * the builder, `run: "true"` in the spec), so the runners cost the same. The
 * spec's data is made before timing (it is what a JSON or YAML parser hands
 * over). Two comparisons, since `fromSpec` checks what it builds:
 *
 * - built and checked: `fromSpec(spec)` vs the builder then `Plan.check`;
 * - ready to run: `Plan.make(fromSpec(spec))` vs `Plan.make(builder)`;
 *
 * and the builder alone, for scale. Each side is warmed up, then timed in turns
 * so that load from elsewhere falls on both; medians are compared. Before
 * issue 10 `fromSpec` was quadratic: a 50,000-step chain took 5–9 s.
 *
 *   node bench/spec.ts [--quick] [--steps 100000] [--repeats 7]
 *
 * `--quick`: 20,000 steps, 3 repeats (a smoke test).
 */
import { parseArgs } from "node:util"
import { shell } from "../dsl/Command.ts"
import { fromSpec, type Spec, type StepSpec } from "../dsl/Spec.ts"
import { workflow, type Workflow } from "../dsl/Workflow.ts"
import * as Plan from "../runtime/Plan.ts"
import { prng } from "./graph.ts"
import { fmt, median, table } from "./stats.ts"

/** Step `i`'s needs, by index, for each shape. */
const shapes = {
  chain: (_n: number) => (i: number): Array<number> => (i === 0 ? [] : [i - 1]),
  "10 edges": (_n: number) => {
    const random = prng(42)
    return (i: number): Array<number> => {
      const needs = new Set<number>()
      for (let k = 0; k < Math.min(i, 10); k++) needs.add(Math.floor(random() * i))
      return [...needs]
    }
  }
} as const

interface Case {
  readonly name: string
  readonly spec: Spec
  readonly needs: ReadonlyArray<ReadonlyArray<string>>
}

const makeCase = (name: string, n: number, needsOf: (i: number) => Array<number>, reversed = false): Case => {
  const needs = Array.from({ length: n }, (_, i) => needsOf(i).map((d) => `s${d}`))
  const steps: Array<StepSpec> = needs.map((ns, i) => (ns.length === 0 ? { id: `s${i}`, run: "true" } : { id: `s${i}`, run: "true", needs: ns }))
  if (reversed) steps.reverse()
  return { name, spec: { name: "bench-spec", steps }, needs }
}

const build = (c: Case): Workflow<any> => {
  // Typed as having no steps, so each `.step` type-checks as it would in a file: the ids are not known statically.
  let wf: Workflow<{}> = workflow("bench-spec")
  for (let i = 0; i < c.needs.length; i++) wf = wf.step(`s${i}`, { needs: c.needs[i]! as ReadonlyArray<never> }, shell("true"))
  return wf
}

const alternate = (fs: ReadonlyArray<() => unknown>, warmup: number, repeats: number): Array<Array<number>> => {
  for (const f of fs) for (let i = 0; i < warmup; i++) f()
  const times = fs.map((): Array<number> => [])
  for (let r = 0; r < repeats; r++) {
    for (const [k, f] of fs.entries()) {
      const t0 = performance.now()
      f()
      times[k]!.push(performance.now() - t0)
    }
  }
  return times
}

export interface SpecBenchOptions {
  readonly steps?: number
  readonly repeats?: number
}

/** Medians in milliseconds, by case. */
export const measure = (options: SpecBenchOptions = {}) => {
  const { steps = 100_000, repeats = 7 } = options
  const cases = [
    makeCase("chain", steps, shapes.chain(steps)),
    makeCase("10 edges", steps, shapes["10 edges"](steps)),
    makeCase("chain, listed in reverse", steps, shapes.chain(steps), true)
  ]
  return cases.map((c) => {
    const [spec, checked, builder, specPlan, builderPlan] = alternate([
      () => fromSpec(c.spec),
      () => Plan.check(build(c)),
      () => build(c),
      () => Plan.make(fromSpec(c.spec)),
      () => Plan.make(build(c))
    ], 2, repeats).map(median)
    return { name: c.name, steps: c.needs.length, spec: spec!, checked: checked!, builder: builder!, specPlan: specPlan!, builderPlan: builderPlan! }
  })
}

export const main = async (options: SpecBenchOptions = {}): Promise<void> => {
  const { steps = 100_000, repeats = 7 } = options
  const say = (text: string) => process.stdout.write(`${text}\n`)
  say(`spec: fromSpec vs the builder on the same graph (${steps.toLocaleString("en")} steps, shell("true") each); median ms of ${repeats}, timed alternately after warm-up`)
  const rows = [["graph", "fromSpec", "builder+check", "ratio", "fromSpec+plan", "builder+plan", "ratio", "builder alone"]]
  for (const r of measure({ steps, repeats })) {
    rows.push([r.name, fmt(r.spec), fmt(r.checked), `${fmt(r.spec / r.checked, 2)}×`, fmt(r.specPlan), fmt(r.builderPlan), `${fmt(r.specPlan / r.builderPlan, 2)}×`, fmt(r.builder)])
  }
  say(table(rows))
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { quick: { type: "boolean", default: false }, steps: { type: "string" }, repeats: { type: "string" } }
  })
  await main({
    ...(values.steps === undefined ? (values.quick ? { steps: 20_000 } : {}) : { steps: Number(values.steps) }),
    repeats: values.repeats === undefined ? (values.quick ? 3 : 7) : Number(values.repeats)
  })
}
