/**
 * `sh` through the real command line: a script's backslashes reach the shell
 * as written, in what runs and in what `weft graph` shows.
 */
import { describe, expect, it } from "vitest"
import type { EventOf } from "../runtime/Event.ts"
import { eventsOf, fixtures, weft, type WeftResult } from "../test/fixtures/cli/harness.ts"

const file = `${fixtures}/backslashes.ts`
const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

describe("sh keeps the backslashes of its script", () => {
  it("runs them: sed 's/\\./,/g' turns a.b.c into a,b,c; printf 'x\\0y' prints three bytes", async () => {
    const r = await weft(["run", file, "--reporter", "json", "--no-cache"])
    expect(r.code, shown(r)).toBe(0)
    const logs = eventsOf(r.stdout).filter((e): e is EventOf<"step:log"> => e.type === "step:log")
    const of = (step: string) => logs.filter((e) => e.step === step).map((e) => e.text)
    expect(of("commas")).toEqual(["a,b,c"])
    expect(of("nul")).toEqual(["3"])
    expect(of("quoted")).toEqual(["a-b"])
  })

  it("shows them: weft graph prints the script as written", async () => {
    const r = await weft(["graph", file, "--format", "json"])
    expect(r.code, shown(r)).toBe(0)
    const graph = JSON.parse(r.stdout) as { steps: Array<{ id: string; run?: string; command?: string }> }
    const text = JSON.stringify(graph)
    expect(text, r.stdout).toContain(JSON.stringify(String.raw`echo a.b.c | sed 's/\./,/g'`).slice(1, -1))
    expect(text).toContain(JSON.stringify(String.raw`printf 'x\0y'`).slice(1, -1))
  })

  it("shows them in the text graph too", async () => {
    const r = await weft(["graph", file])
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toContain(String.raw`sed 's/\./,/g'`)
  })
})
