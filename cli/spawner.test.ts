/**
 * Which process starts a `weft run`'s commands: weft itself for the first,
 * the spawner from the second on (a one-command run never starts it), and
 * `WEFT_SPAWNER` read when the run starts, snapshot or not. What a command
 * sees either way: `runtime/Process.test.ts`, `runtime/internal/spawner.test.ts`.
 */
import { existsSync } from "node:fs"
import { afterAll, describe, expect, it } from "vitest"
import type { EventOf } from "../runtime/Event.ts"
import { eventsOf, removeTempDirs, startWeft } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

/** The parent pid each step printed, in step order, and weft's own pid. */
const parents = async (env: Record<string, string>) => {
  const running = startWeft(["run", "test/fixtures/cli/parents.ts", "--reporter", "json"], { env })
  const result = await running.exited
  expect(result.code, result.stderr).toBe(0)
  const logs = new Map(eventsOf(result.stdout).filter((e): e is EventOf<"step:log"> => e.type === "step:log").map((e) => [e.step, Number(e.text)]))
  return { weft: running.child.pid, steps: ["one", "two", "three"].map((id) => logs.get(id)) }
}

describe.runIf(process.platform === "linux" && existsSync("/usr/bin/perl"))("who starts a run's commands", () => {
  it("weft the first, the spawner the rest", async () => {
    const { weft: self, steps: [one, two, three] } = await parents({})
    expect(one).toBe(self)
    expect(two).not.toBe(self)
    expect(three).toBe(two)
  })

  it("weft all of them with WEFT_SPAWNER=0, the spawner all of them with WEFT_SPAWNER=1", async () => {
    const off = await parents({ WEFT_SPAWNER: "0" })
    expect(off.steps).toEqual([off.weft, off.weft, off.weft])
    const on = await parents({ WEFT_SPAWNER: "1" })
    expect(on.steps[0]).not.toBe(on.weft)
    expect(on.steps).toEqual([on.steps[0], on.steps[0], on.steps[0]])
  })
})
