/**
 * Default concurrency (issue 12, item 5): commands are limited to the CPU
 * count, function steps (which mostly wait on APIs) to a much higher limit;
 * an explicit `concurrency` limits every step, as it always did.
 */
import * as Effect from "effect/Effect"
import { describe, expect, it } from "vitest"
import { cmd } from "../dsl/Command.ts"
import { workflow } from "../dsl/Workflow.ts"
import { runVirtual } from "../test/fixtures/virtual.ts"
import { defaultFunctionConcurrency, resolveConcurrency } from "./concurrency.ts"
import type { Event } from "./Event.ts"
import type { Stage } from "./Pipeline.ts"
import { defaultStages } from "./features.ts"
import { run } from "./Run.ts"
import { plain } from "./reporters/plain.ts"

/** The seed scenario: a view fetching nine sources once its route is known; critical path 10 + 150 + 7 = 167 ms. */
const sources = { profile: 117, permissions: 19, notifications: 9, orders: 150, invoices: 44, avatar: 60, teams: 80, flags: 25, locale: 12 }
const view = Object.entries(sources)
  .reduce((wf, [id, ms]) => wf.step(id, { needs: ["route"] }, () => Effect.as(Effect.sleep(ms), id)), workflow("view").step("route", () => Effect.as(Effect.sleep(10), "/")))
  .step("render", { needs: Object.keys(sources) as never }, () => Effect.as(Effect.sleep(7), "page"))

/**
 * Command steps on virtual time: the innermost stage sleeps what the command
 * names (`cmd(["virtual", "40"])`) instead of spawning it. The start
 * decision, which this is about, is the machine's and runs unchanged.
 */
const virtualCommands: Stage = (step, next) => {
  const runner = step.def.run as { readonly argv?: ReadonlyArray<string> }
  return typeof step.def.run === "function" || runner.argv?.[0] !== "virtual" ? next : Effect.as(Effect.sleep(Number(runner.argv[1])), "done")
}
const stages = [...defaultStages, virtualCommands]

/** The most steps of each kind running at once, from `step:start` / `step:end`. */
const peaks = (events: ReadonlyArray<Event>, isCommand: (id: string) => boolean) => {
  let commands = 0, all = 0
  const peak = { commands: 0, all: 0 }
  for (const e of events) {
    if (e.type === "step:start" && e.attempt === 1) {
      all++
      if (isCommand(e.step)) commands++
    } else if (e.type === "step:end" && e.attempts > 0) {
      all--
      if (isCommand(e.step)) commands--
    } else continue
    peak.commands = Math.max(peak.commands, commands)
    peak.all = Math.max(peak.all, all)
  }
  return peak
}

describe("default concurrency", () => {
  it("the seed view runs in its critical path time on a 2-CPU machine, with no option set", async () => {
    const { result, start } = await runVirtual(view, { cpus: 2 })
    expect(result.status).toBe("succeeded")
    expect(result.durationMs).toBe(167)
    expect(start.concurrency).toBe(defaultFunctionConcurrency)
    expect(start.commandConcurrency).toBe(2)
  })

  it("commands still run at most one per CPU, while function steps run beside them", async () => {
    const wf = workflow("mixed")
      .step("a", cmd(["virtual", "100"])).step("b", cmd(["virtual", "100"])).step("c", cmd(["virtual", "100"])).step("d", cmd(["virtual", "100"]))
      .step("f1", () => Effect.sleep(100)).step("f2", () => Effect.sleep(100)).step("f3", () => Effect.sleep(100))
    const { result, events } = await runVirtual(wf, { cpus: 2, stages })
    expect(result.status).toBe("succeeded")
    expect(peaks(events, (id) => !id.startsWith("f"))).toEqual({ commands: 2, all: 5 })
    expect(result.durationMs).toBe(200)
  })

  it("an explicit concurrency limits every step, commands included, as before", async () => {
    const wf = workflow("mixed", { concurrency: 3 })
      .step("a", cmd(["virtual", "100"])).step("b", cmd(["virtual", "100"])).step("c", cmd(["virtual", "100"])).step("d", cmd(["virtual", "100"]))
      .step("f1", () => Effect.sleep(100)).step("f2", () => Effect.sleep(100))
    const { events, start } = await runVirtual(wf, { cpus: 2, stages })
    expect(peaks(events, (id) => !id.startsWith("f"))).toEqual({ commands: 3, all: 3 })
    expect([start.concurrency, start.commandConcurrency]).toEqual([3, 3])
    const { events: nine } = await runVirtual(view, { cpus: 2, concurrency: 2 })
    expect(peaks(nine, () => false).all).toBe(2)
  })

  it("commandConcurrency limits commands alone, from the workflow or the run (the run's wins)", async () => {
    const wf = (options: { commandConcurrency?: number }) => workflow("mixed", options)
      .step("a", cmd(["virtual", "100"])).step("b", cmd(["virtual", "100"])).step("c", cmd(["virtual", "100"]))
      .step("f1", () => Effect.sleep(100)).step("f2", () => Effect.sleep(100))
    const one = await runVirtual(wf({ commandConcurrency: 1 }), { cpus: 4, stages })
    expect(peaks(one.events, (id) => !id.startsWith("f"))).toEqual({ commands: 1, all: 3 })
    const three = await runVirtual(wf({ commandConcurrency: 1 }), { cpus: 4, stages, commandConcurrency: 3 })
    expect(peaks(three.events, (id) => !id.startsWith("f"))).toEqual({ commands: 3, all: 5 })
  })

  it("resolves the limits: run options over workflow options over the CPU count", () => {
    expect(resolveConcurrency({}, {}, 2)).toEqual({ slots: 64, commands: 2 })
    expect(resolveConcurrency({}, {}, 96)).toEqual({ slots: 96, commands: 96 })
    expect(resolveConcurrency({}, { concurrency: 8 }, 2)).toEqual({ slots: 8, commands: 8 })
    expect(resolveConcurrency({ concurrency: 4 }, { concurrency: 8 }, 2)).toEqual({ slots: 4, commands: 4 })
    expect(resolveConcurrency({ commandConcurrency: 1 }, { concurrency: 8 }, 2)).toEqual({ slots: 8, commands: 1 })
    expect(resolveConcurrency({ commandConcurrency: 16 }, { concurrency: 8 }, 2)).toEqual({ slots: 8, commands: 8 })
  })

  it("a bad commandConcurrency is a definition error naming it", async () => {
    await expect(run(workflow("w", { commandConcurrency: 0 } as never).step("a", () => 1))).rejects.toThrow(/commandConcurrency must be a whole number of at least 1, not 0/)
    await expect(run(workflow("w").step("a", () => 1), { commandConcurrency: -1 })).rejects.toThrow(/run option commandConcurrency must be a whole number of at least 1/)
    await expect(run(workflow("w", { resources: { commands: 2 } }).step("a", () => 1))).rejects.toThrow(/resources cannot declare "commands"/)
  })
})

describe("the limits, as reporters show them", () => {
  it("plain's header names the command limit when it is below the slots", async () => {
    const lines: Array<string> = []
    const wf = workflow("w").step("a", cmd(["virtual", "1"]))
    await runVirtual(wf, { cpus: 2, stages, reporter: plain({ write: (text) => void lines.push(text) }) })
    expect(lines[0]).toBe("weft ▸ w: 1 step, concurrency 64 (commands 2)\n")
    lines.length = 0
    await runVirtual(workflow("w", { concurrency: 3 }).step("a", () => 1), { cpus: 2, reporter: plain({ write: (text) => void lines.push(text) }) })
    expect(lines[0]).toBe("weft ▸ w: 1 step, concurrency 3\n")
  })
})
