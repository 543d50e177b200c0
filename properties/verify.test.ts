import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { workflow, type Workflow } from "../dsl/Workflow.ts"
import { memo } from "../runtime/memo.ts"
import viewSwitch from "../examples/view-switch.ts"
import { stepsOf, verify, type OrderDependence } from "./index.ts"
import { useFolders } from "../test/fixtures/folders.ts"

const folder = useFolders("weft-verify-test-")

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// A planted bug is removed by ordering the pair; `ordered` says whether to.
const appending = (ordered: boolean) =>
  workflow("appending")
    .step("a", () => fs.appendFileSync("log.txt", "a\n"))
    .step("b", { after: ordered ? ["a"] : [] }, () => fs.appendFileSync("log.txt", "b\n"))
    .step("read", { after: ["a", "b"] }, () => fs.readFileSync("log.txt", "utf8"))

const readingUnordered = (ordered: boolean) =>
  workflow("reading")
    .step("write", () => fs.writeFileSync("data.txt", "new"))
    .step("other", () => 42)
    .step("read", { after: ordered ? ["write"] : [] }, () => fs.readFileSync("data.txt", "utf8"))

const widthDependent = (ordered: boolean) => {
  let running = 0
  const busy = (ms: number) => async () => {
    running++
    await sleep(ms)
    running--
  }
  return workflow("width")
    .step("busy", busy(10))
    .step("width", { after: ordered ? ["busy"] : [] }, async () => {
      running++
      await sleep(5)
      const beside = running
      running--
      return beside
    })
    .step("report", { needs: ["width"] }, ({ width }) => `ran beside ${width - 1}`)
}

// These are about the schedules: the traced run (properties/tracing.test.ts)
// would report the same planted bugs as hazards first.
describe("verify finds order dependence", () => {
  it("two steps appending to one file: names the appenders, not the reader that saw the difference", async () => {
    const findings = await verify(appending(false), { trace: false, cwd: folder({ "log.txt": "" }) })
    expect(findings).toHaveLength(1)
    expect(findings[0]).toMatchObject({ kind: "order-dependence", step: "read", pair: ["a", "b"] })
    expect(findings[0]!.fix).toContain(`add after: ["a"] to step "b"`)
    expect(await verify(appending(true), { trace: false, cwd: folder({ "log.txt": "" }) })).toEqual([])
  })

  it("a step reading a file another writes, with no order between them", async () => {
    const findings = await verify(readingUnordered(false), { trace: false, cwd: folder({ "data.txt": "old" }) })
    expect(findings).toMatchObject([{ step: "read", pair: ["read", "write"] }])
    expect(findings[0]!.fix).toContain(`add after: ["write"] to step "read"`)
    expect(await verify(readingUnordered(true), { trace: false, cwd: folder({ "data.txt": "old" }) })).toEqual([])
  })

  it("a step whose value depends on how many steps run beside it", async () => {
    const findings = await verify(widthDependent(false), { trace: false, cwd: folder() })
    expect(findings).toMatchObject([{ step: "width", pair: ["width", "busy"] }])
    expect(await verify(widthDependent(true), { trace: false, cwd: folder() })).toEqual([])
  })

  it("a memoized call whose key leaves out an argument that changes its result", async () => {
    const rates: Record<string, number> = { usd: 1, eur: 0.9 }
    const prices = (key: (symbol: string, currency: string) => unknown) => {
      const price = memo("price", async (symbol: string, currency: string) => rates[currency]! * symbol.length, { key })
      return workflow("prices")
        .step("usd", () => price("ACME", "usd"))
        .step("eur", () => price("ACME", "eur"))
    }
    const findings = await verify(prices((symbol) => symbol), { cwd: folder() })
    expect(findings).toMatchObject([{ kind: "order-dependence", step: "usd", pair: ["usd", "eur"] }])
    // The fix is the key, not an order that would hide the bug.
    expect(findings[0]!.fix).toContain(`memo "price"`)
    expect(findings[0]!.fix).not.toContain("after:")
    expect(await verify(prices((symbol, currency) => [symbol, currency]), { cwd: folder() })).toEqual([])
  })

  // 25 runs, not 50: its steps sleep up to 117 ms, and 50 runs took 10 s.
  it("finds nothing in examples/view-switch.ts", async () => {
    expect(await verify(viewSwitch, { cwd: folder(), runs: 25 })).toEqual([])
  })
})

describe("a finding", () => {
  it("replays from its seed, with the schedule shrunk", async () => {
    const [finding] = (await verify(appending(false), { trace: false, cwd: folder({ "log.txt": "" }), seed: 7 })) as Array<OrderDependence>
    expect(finding!.seed).toBe(7)
    const [again] = await verify(appending(false), { trace: false, cwd: folder({ "log.txt": "" }), seed: 7 })
    expect(again).toEqual(finding)
    // Shrunk: the two appenders overlap at the fewest slots that let them.
    const [, shrunk] = finding!.schedules
    expect(shrunk.concurrency).toBe(2)
  })

  it("is compared on declared output files too, not only values", async () => {
    const wf = workflow("outputs")
      .step("a", () => void fs.appendFileSync("out.txt", "a"))
      .step("b", { cache: { outputs: ["out.txt"] } }, () => void fs.appendFileSync("out.txt", "b"))
    expect(await verify(wf, { trace: false, cwd: folder() })).toMatchObject([{ step: "b", pair: ["b", "a"] }])
    // Declared for the whole workflow: the same.
    const declaredAbove = workflow("outputs-above", { cache: { outputs: ["out.txt"] } })
      .step("a", { cache: false }, () => void fs.appendFileSync("out.txt", "a"))
      .step("b", () => void fs.appendFileSync("out.txt", "b"))
    expect(await verify(declaredAbove, { trace: false, cwd: folder() })).toMatchObject([{ step: "b", pair: ["b", "a"] }])
  })

  it("in a 50-step workflow names only the steps involved, and the shrunk schedule holds back and reorders no others", async () => {
    // 47 busy steps in chains of varied length around the planted pair and its reader.
    // Built in a loop, so its step ids are not literal types: the builder is typed loosely here.
    let wf: any = workflow("fifty")
    for (let i = 0; i < 47; i++) {
      wf = wf.step(`s${i}`, { after: i % 4 === 0 ? [] : [`s${i - 1}`] }, async () => {
        await new Promise((resolve) => setImmediate(resolve))
        return i
      })
    }
    const planted: Workflow<any> = wf
      .step("a", { after: ["s5"] }, () => fs.appendFileSync("log.txt", "a\n"))
      .step("b", { after: ["s9"] }, () => fs.appendFileSync("log.txt", "b\n"))
      .step("read", { after: ["a", "b"] }, () => fs.readFileSync("log.txt", "utf8"))
    // The schedules alone (tracing would report a and b as a hazard, and the schedules would not repeat it).
    const all = await verify(planted, { trace: false, cwd: folder({ "log.txt": "" }), seed: 3 })
    const [finding, ...more] = all as Array<OrderDependence>
    expect(more).toEqual([])
    expect(new Set<string>(stepsOf(finding!))).toEqual(new Set(["a", "b", "read"]))
    const [, shrunk] = finding!.schedules
    const ids = [...Array.from({ length: 47 }, (_, i) => `s${i}`), "a", "b", "read"]
    const touched = ids.filter((_, i) => shrunk.delays[i]![0] + shrunk.delays[i]![1] > 0 || (shrunk.priority[i] ?? 0) > 0)
    // To reorder a and b, the schedule may have to move what they wait for (s4-s5, s8-s9), and nothing else.
    const involved: ReadonlyArray<string> = ["a", "b", "read", "s4", "s5", "s8", "s9"]
    expect(touched.length).toBeGreaterThan(0)
    expect(touched.filter((id) => !involved.includes(id)), `the shrunk schedule touches ${touched.join(", ")}`).toEqual([])
  })

  it("says when the plain run failed, and which steps, rather than comparing failures in silence", async () => {
    const warnings: Array<string> = []
    const wf = workflow("failing")
      .step("bad", (): number => {
        throw new Error("boom\nat line 2")
      })
      .step("after", { needs: ["bad"] }, ({ bad }) => bad + 1)
    expect(await verify(wf, { cwd: folder(), runs: 3, onWarning: (text) => void warnings.push(text) })).toEqual([])
    expect(warnings).toEqual([expect.stringMatching(/^the plain run failed \(step "bad": boom\): .*steps after them did not run/)])
  })

  it("two calls at once each run in their own copies: their runs take turns with the process's working folder", async () => {
    const [planted, fixed] = await Promise.all([
      verify(readingUnordered(false), { trace: false, cwd: folder({ "data.txt": "old" }), runs: 20, seed: 5 }),
      verify(readingUnordered(true), { trace: false, cwd: folder({ "data.txt": "old" }), runs: 20, seed: 5 })
    ])
    expect(planted).toMatchObject([{ step: "read", pair: ["read", "write"] }])
    expect(fixed).toEqual([])
  })

  it("leaves the user's folder and the process's working folder as they were", async () => {
    const dir = folder({ "log.txt": "" })
    const home = process.cwd()
    await verify(appending(false), { cwd: dir, runs: 5 })
    expect(fs.readFileSync(path.join(dir, "log.txt"), "utf8")).toBe("")
    expect(fs.readdirSync(dir)).toEqual(["log.txt"])
    expect(process.cwd()).toBe(home)
  })
})
