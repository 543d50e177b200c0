/**
 * Step ids that are names a plain object already answers to (`__proto__`,
 * `constructor`, `toString`, …) are ids like any other: in the result, in the
 * inputs of the steps that need them, in events, the cache, the journal and
 * the history. Assigning `record["__proto__"] = value` sets a prototype
 * instead of a key, which lost the step and let its output leak into every
 * lookup of `result.outputs`.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import { fromSpec, type StepSpec } from "../dsl/Spec.ts"
import type { Event } from "./Event.ts"
import { readDurations } from "./history/durations.ts"
import { idPool } from "../test/fixtures/specs.ts"
import { run, type RunOptions } from "./Run.ts"

const protoIds = ["__proto__", "constructor", "hasOwnProperty", "toString", "valueOf"] as const

const dirs: Array<string> = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), "weft-proto-"))
  dirs.push(dir)
  return dir
}

/** An own property's value, never an inherited one. */
const own = (record: object, key: string): unknown => Object.getOwnPropertyDescriptor(record, key)?.value

/**
 * `__proto__` → `{ polluted: true }`; `constructor` → "built";
 * `hasOwnProperty` needs both and returns what it was given; `toString` waits
 * for it and returns an object with its own `__proto__` key; `valueOf` needs
 * `toString` and `__proto__`. `calls` counts each
 * step's runs; `failLast` makes `valueOf` fail.
 */
const protoWorkflow = (calls: Map<string, number>, seen: Map<string, Record<string, unknown>>, failLast = { value: false }) => {
  const body = (id: string, value: (inputs: Record<string, unknown>) => unknown) => (inputs: Record<string, unknown>) => {
    calls.set(id, (calls.get(id) ?? 0) + 1)
    seen.set(id, inputs)
    return value(inputs)
  }
  const steps: Array<StepSpec> = [
    { id: "valueOf", needs: ["toString", "__proto__"], run: body("valueOf", (inputs) => {
      if (failLast.value) throw new Error("not yet")
      return `${own(own(inputs, "toString") as object, "__proto__")}+${JSON.stringify(own(inputs, "__proto__"))}`
    }) },
    { id: "__proto__", run: body("__proto__", () => ({ polluted: true })), cache: true },
    { id: "constructor", run: body("constructor", () => "built"), cache: true },
    { id: "hasOwnProperty", needs: ["__proto__", "constructor"], run: body("hasOwnProperty", (inputs) => Object.keys(inputs)), cache: true },
    // An output with its own `__proto__` key: kept through the cache and the journal too.
    { id: "toString", after: ["hasOwnProperty"], run: body("toString", () => JSON.parse(`{ "__proto__": "own" }`)), cache: true }
  ]
  return fromSpec({ name: "proto-ids", steps })
}

const expectAllThere = (result: Awaited<ReturnType<typeof run>>) => {
  expect(Object.keys(result.steps).sort()).toEqual([...protoIds].sort())
  expect(Object.keys(result.outputs).sort()).toEqual([...protoIds].sort())
  // No pollution: the outputs record does not inherit a step's output.
  expect("polluted" in result.outputs).toBe(false)
  expect([Object.prototype, null]).toContain(Object.getPrototypeOf(result.outputs))
  expect([Object.prototype, null]).toContain(Object.getPrototypeOf(result.steps))
  expect(own(result.outputs, "__proto__")).toEqual({ polluted: true })
  expect(own(result.outputs, "constructor")).toBe("built")
  expect(own(result.outputs, "hasOwnProperty")).toEqual(["__proto__", "constructor"])
  expect(own(own(result.outputs, "toString") as object, "__proto__")).toBe("own")
  expect(own(result.outputs, "valueOf")).toBe(`own+{"polluted":true}`)
}

describe("step ids named like Object.prototype's properties", () => {
  it("are in result.steps, result.outputs, dependents' inputs and events", async () => {
    const calls = new Map<string, number>()
    const seen = new Map<string, Record<string, unknown>>()
    const events: Array<Event> = []
    const result = await run(protoWorkflow(calls, seen), { onEvent: (e) => events.push(e), cache: { mode: "off" } })
    expect(result.status).toBe("succeeded")
    expectAllThere(result)
    for (const id of protoIds) expect((own(result.steps, id) as { status?: string } | undefined)?.status, id).toBe("succeeded")
    const inputs = seen.get("hasOwnProperty")!
    expect(Object.keys(inputs)).toEqual(["__proto__", "constructor"])
    expect(own(inputs, "__proto__")).toEqual({ polluted: true })
    expect("polluted" in inputs).toBe(false)
    const ended = events.flatMap((e) => (e.type === "step:end" ? [e.step] : []))
    expect(ended.sort()).toEqual([...protoIds].sort())
    const start = events.find((e) => e.type === "run:start")!
    expect(start.type === "run:start" && start.steps.find((s) => s.id === "valueOf")!.deps).toEqual(["toString", "__proto__"])
  })

  it("are cached and restored, and their durations kept in the history", async () => {
    const cacheDir = tempDir()
    const options: RunOptions = { cacheDir, cwd: cacheDir, weftDir: cacheDir }
    const first = await run(protoWorkflow(new Map(), new Map()), options)
    expect(first.status).toBe("succeeded")
    const calls = new Map<string, number>()
    const second = await run(protoWorkflow(calls, new Map()), options)
    expectAllThere(second)
    for (const id of ["__proto__", "constructor", "hasOwnProperty", "toString"]) {
      expect((own(second.steps, id) as { status?: string }).status, id).toBe("cached")
      expect(calls.get(id), id).toBeUndefined()
    }
    const durations = await readDurations(cacheDir, "proto-ids")
    expect([...durations.keys()].sort()).toEqual([...protoIds].sort())
  })

  it("are replayed from the journal on resume", async () => {
    const cacheDir = tempDir()
    const failLast = { value: true }
    // Without the cache, only the journal can bring the finished steps back.
    const options: RunOptions = { cacheDir, cwd: cacheDir, journal: true, cache: { dir: cacheDir, mode: "off" } }
    const failed = await run(protoWorkflow(new Map(), new Map(), failLast), options)
    expect(failed.status).toBe("failed")
    failLast.value = false
    const calls = new Map<string, number>()
    const resumed = await run(protoWorkflow(calls, new Map(), failLast), { ...options, resume: true })
    expect(resumed.status).toBe("succeeded")
    expectAllThere(resumed)
    expect([...calls.keys()]).toEqual(["valueOf"])
  })
})

describe("any id from a pool with prototype names", () => {
  it("every step's output is its own key of result.outputs and of its dependents' inputs", async () => {
    // Distinct ids in declaration order; each step needs some earlier ones.
    const graphs = fc.uniqueArray(fc.constantFrom(...idPool), { minLength: 1, maxLength: idPool.length }).chain((ids) =>
      fc.tuple(fc.constant(ids), fc.tuple(...ids.map((_, i) => fc.subarray(ids.slice(0, i)))))
    )
    await fc.assert(
      fc.asyncProperty(graphs, async ([ids, needs]) => {
        const seen = new Map<string, Record<string, unknown>>()
        const wf = fromSpec({
          name: "pool",
          steps: ids.map((id, i) => ({ id, needs: needs[i]!, run: (inputs: Record<string, unknown>) => (seen.set(id, inputs), { from: id }) }))
        })
        const result = await run(wf, { cache: { mode: "off" } })
        expect(result.status).toBe("succeeded")
        expect(Object.keys(result.outputs).sort()).toEqual([...ids].sort())
        expect(Object.getPrototypeOf(result.outputs)).toBe(Object.prototype)
        for (const [i, id] of ids.entries()) {
          expect(own(result.outputs, id)).toEqual({ from: id })
          expect(Object.keys(seen.get(id)!)).toEqual(needs[i])
          for (const need of needs[i]!) expect(own(seen.get(id)!, need)).toEqual({ from: need })
        }
      }),
      { numRuns: 60 }
    )
  })
})
