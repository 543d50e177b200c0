/**
 * The two concurrency limits on random workflows of commands and function
 * steps, run on virtual time: commands never exceed the command limit, steps
 * of any kind never exceed the slots, workflow resources still hold beside
 * the command limit, and every run ends. Command bodies are replaced by a
 * virtual sleep in the innermost stage: the start decision is the machine's.
 */
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import { describe, expect, test } from "vitest"
import { cmd } from "../dsl/Command.ts"
import { workflow, type Workflow } from "../dsl/Workflow.ts"
import { resolveConcurrency } from "../runtime/concurrency.ts"
import type { Event } from "../runtime/Event.ts"
import type { Stage } from "../runtime/Pipeline.ts"
import { defaultStages } from "../runtime/features.ts"
import { runVirtual } from "../test/fixtures/virtual.ts"
import { runs } from "./harness.ts"

interface StepModel {
  readonly command: boolean
  readonly ms: number
  readonly needs: ReadonlyArray<number>
  readonly db: boolean
}

const stepModel = (i: number) =>
  fc.record({
    command: fc.boolean(),
    ms: fc.integer({ min: 1, max: 40 }),
    needs: i === 0 ? fc.constant([]) : fc.uniqueArray(fc.integer({ min: 0, max: i - 1 }), { maxLength: 2 }),
    db: fc.boolean()
  })

const model = fc.integer({ min: 1, max: 14 }).chain((n) =>
  fc.record({
    steps: fc.tuple(...Array.from({ length: n }, (_, i) => stepModel(i))),
    cpus: fc.integer({ min: 1, max: 4 }),
    wf: fc.record({ concurrency: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }), commandConcurrency: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }) }),
    run: fc.record({ concurrency: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }), commandConcurrency: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }) }),
    dbCapacity: fc.option(fc.integer({ min: 1, max: 2 }), { nil: undefined })
  }))

type Model = typeof model extends fc.Arbitrary<infer M> ? M : never

const build = (m: Model): Workflow<any> => {
  const defined = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
  let wf: Workflow<any> = workflow("mixed", { ...defined(m.wf), ...(m.dbCapacity === undefined ? {} : { resources: { db: m.dbCapacity } }) })
  m.steps.forEach((s: StepModel, i: number) => {
    const options = { needs: s.needs.map((d) => `s${d}`) as never, ...(s.db && m.dbCapacity !== undefined ? { resources: { db: 1 } } : {}) }
    wf = s.command ? wf.step(`s${i}` as never, options, cmd(["virtual", String(s.ms)])) : wf.step(`s${i}` as never, options, () => Effect.sleep(s.ms))
  })
  return wf
}

const virtualCommands: Stage = (step, next) => {
  const runner = step.def.run as { readonly argv?: ReadonlyArray<string> }
  return runner.argv?.[0] === "virtual" ? Effect.as(Effect.sleep(Number(runner.argv[1])), "done") : next
}

const peaks = (events: ReadonlyArray<Event>, m: Model) => {
  const isCommand = (id: string) => m.steps[Number(id.slice(1))]!.command
  const usesDb = (id: string) => m.dbCapacity !== undefined && m.steps[Number(id.slice(1))]!.db
  const now = { commands: 0, all: 0, db: 0 }
  const peak = { commands: 0, all: 0, db: 0 }
  for (const e of events) {
    const sign = e.type === "step:start" && e.attempt === 1 ? 1 : e.type === "step:end" && e.attempts > 0 ? -1 : 0
    if (sign === 0 || (e.type !== "step:start" && e.type !== "step:end")) continue
    now.all += sign
    if (isCommand(e.step)) now.commands += sign
    if (usesDb(e.step)) now.db += sign
    peak.all = Math.max(peak.all, now.all)
    peak.commands = Math.max(peak.commands, now.commands)
    peak.db = Math.max(peak.db, now.db)
  }
  return peak
}

describe("concurrency limits", () => {
  test("commands stay within the command limit, every step within the slots, resources within their capacity; every run ends", async () => {
    await fc.assert(
      fc.asyncProperty(model, async (m) => {
        const { result, events, start } = await runVirtual(build(m), { cpus: m.cpus, stages: [...defaultStages, virtualCommands], ...Object.fromEntries(Object.entries(m.run).filter(([, v]) => v !== undefined)) })
        const limits = resolveConcurrency(m.run, m.wf, m.cpus)
        expect(result.status).toBe("succeeded")
        expect([start.concurrency, start.commandConcurrency]).toEqual([limits.slots, limits.commands])
        const peak = peaks(events, m)
        expect(peak.commands).toBeLessThanOrEqual(limits.commands)
        expect(peak.all).toBeLessThanOrEqual(limits.slots)
        if (m.dbCapacity !== undefined) expect(peak.db).toBeLessThanOrEqual(m.dbCapacity)
      }),
      runs(150)
    )
  })
})
