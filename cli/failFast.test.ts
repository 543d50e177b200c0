/**
 * The workflow's own `failFast: false` holds under `weft run` and `weft
 * watch`, whether it comes from the builder or a YAML spec: a flag overrides
 * the workflow only when it is given. No timing: one slot, and the failing
 * step starts first, so `later` can only run if the run went on after the
 * failure.
 */
import { writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { EventOf } from "../runtime/Event.ts"
import { eventsOf, fixtures, removeTempDirs, startWeft, tempDir, waitFor, weft, type WeftResult } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const keepGoingYaml = `name: keep-going
concurrency: 1
failFast: false
steps:
  - id: bad
    run: echo failing >&2; exit 3
  - id: after-bad
    run: echo never
    after: [bad]
  - id: later
    run: echo later ran
`

const yamlFile = (): string => {
  const file = path.join(tempDir("weft-failfast-"), "keep-going.yaml")
  writeFileSync(file, keepGoingYaml)
  return file
}

const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

const endsOf = (stdout: string) =>
  Object.fromEntries(eventsOf(stdout).filter((e): e is EventOf<"step:end"> => e.type === "step:end").map((e) => [e.step, e.status]))

const expectKeptGoing = (r: WeftResult) => {
  expect(r.code, shown(r)).toBe(1)
  expect(endsOf(r.stdout)).toEqual({ bad: "failed", "after-bad": "skipped", later: "succeeded" })
  expect(eventsOf(r.stdout)[0]).toMatchObject({ type: "run:start", concurrency: 1 })
}

describe("weft run keeps the workflow's own failFast: false", () => {
  it("from the builder (a .ts workflow)", async () => {
    expectKeptGoing(await weft(["run", path.join(fixtures, "keep-going.ts"), "--reporter", "json", "--no-cache"]))
  })

  it("from a YAML spec", async () => {
    expectKeptGoing(await weft(["run", yamlFile(), "--reporter", "json", "--no-cache"]))
  })

  it("--continue on a workflow that already continues changes nothing", async () => {
    expectKeptGoing(await weft(["run", yamlFile(), "--continue", "--reporter", "json", "--no-cache"]))
  })
})

describe("weft watch keeps the workflow's own failFast: false", () => {
  it("from a YAML spec: the first run goes on past the failure", async () => {
    const w = startWeft(["watch", yamlFile(), "--reporter", "json", "--no-cache"])
    await waitFor(() => w.stdout().includes(`"type":"watch:idle"`), 15_000, `the first run to end:\n${w.stdout()}\n${w.stderr()}`)
    // The harness closes stdin (no keys): stop it as Ctrl-C would.
    w.child.kill("SIGINT")
    const r = await w.exited
    expect(r.code, shown(r)).toBe(130)
    const runEvents = r.stdout.split("\n").filter((line) => line !== "" && !line.includes(`"type":"watch:`)).join("\n")
    expect(endsOf(runEvents)).toEqual({ bad: "failed", "after-bad": "skipped", later: "succeeded" })
  })
})
