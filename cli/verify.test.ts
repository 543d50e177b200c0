/**
 * `weft verify` end to end: a real `node bin/weft.js` per case, checked by
 * exit code and by what a user and a tool (`--reporter json`) read. The
 * planted bug is test/fixtures/cli/verify/appending.ts (two steps appending
 * to one file, no order between them); with WEFT_ORDERED=1 it is fixed.
 */
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, it } from "vitest"
import type { Finding } from "../properties/index.ts"
import { alive, callMain, fixtures, groupMembers, removeTempDirs, repoRoot, stackFrames, startWeft, tempDir, waitFor, weft, type RunningWeft, type WeftResult } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const appending = path.relative(repoRoot, path.join(fixtures, "verify/appending.ts"))
const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
/** Each stdout line as JSON: throws on a line that is not one. */
const findingsOf = (stdout: string): Array<Finding> => stdout.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Finding)

describe.concurrent("weft verify", () => {
  it("a workflow whose result does not depend on the schedule: exit 0, a summary with the seed", async ({ expect }) => {
    const r = await weft(["verify", appending, "--runs", "10"], { env: { WEFT_ORDERED: "1" } })
    expect(r.code, shown(r)).toBe(0)
    // 12 runs: the traced one, the plain one, and 10 schedules.
    expect(r.stdout).toMatch(/^✓ appending: 10 schedules \(12 runs\) · no findings · .* · seed \d+\n$/)
  })

  it("finds nothing in examples/view-switch.ts", async ({ expect }) => {
    const r = await weft(["verify", "examples/view-switch.ts", "--runs", "5", "--reporter", "json"])
    expect(r.code, shown(r)).toBe(0)
    expect(r.stdout).toBe("")
  })

  it("the planted bug, traced: one run names the two appenders and the file; the schedules do not report the pair again", async ({ expect }) => {
    const r = await weft(["verify", appending, "--runs", "10", "--seed", "7"])
    expect(r.code, shown(r)).toBe(1)
    expect(r.stdout).toMatch(/^✗ hazard \(write\/write\): steps "a" and "b" both write log\.txt/m)
    // The static view beside the traced one.
    expect(r.stdout).toMatch(/^  declared: the race check sees no conflict between their declared paths\n  traced: log\.txt$/m)
    expect(r.stdout).not.toMatch(/order dependence/)
    expect(r.stdout).toMatch(/^✗ appending: 10 schedules \(\d+ runs\) · 1 finding · .* · seed 7\n$/m)
  })

  // --no-trace from here: what the schedules find, and how it is shown.
  it("the planted bug, plain: exit 1; the steps, the fix, both schedules, the replay command; progress on stderr", async ({ expect }) => {
    const r = await weft(["verify", appending, "--runs", "10", "--seed", "7", "--no-trace"])
    expect(r.code, shown(r)).toBe(1)
    expect(r.stdout).toMatch(/^✗ order dependence: step "read" gave a different result when "a" and "b"/m)
    expect(r.stdout).toMatch(/^  steps: read, a, b$/m)
    expect(r.stdout).toMatch(/^  fix: add after: \["a"\] to step "b"/m)
    expect(r.stdout).toMatch(/^  declared: /m)
    expect(r.stdout).toMatch(/^    plain: +concurrency 3 · ready steps in plan order · no step held back$/m)
    expect(r.stdout).toMatch(/^    shrunk: concurrency 2 · /m)
    expect(r.stdout).toContain(`  replay: weft verify ${appending} --seed 7 --runs 10 --no-trace\n`)
    expect(r.stdout).toMatch(/^✗ appending: 10 schedules \(\d+ runs\) · 1 finding · .* · seed 7\n$/m)
    expect(r.stderr).toMatch(/^verify: \d+\/10 schedules · 1 finding.* · found: step "read"/m)
  })

  it("the planted bug, json: exit 1, one finding per line and nothing else, the same finding as plain, replayed by its seed", async ({ expect }) => {
    const [json, again, plain] = await Promise.all([
      weft(["verify", appending, "--runs", "10", "--seed", "7", "--no-trace", "--reporter", "json"]),
      weft(["verify", appending, "--runs", "10", "--seed", "7", "--no-trace", "--reporter", "json"]),
      weft(["verify", appending, "--runs", "10", "--seed", "7", "--no-trace", "--reporter", "plain"])
    ])
    expect(json.code, shown(json)).toBe(1)
    const findings = findingsOf(json.stdout)
    expect(findings).toMatchObject([{ kind: "order-dependence", step: "read", pair: ["a", "b"], seed: 7 }])
    expect(json.stderr).toBe("")
    // The seed replays the search: the same finding, shrunk schedules and all.
    expect(findingsOf(again.stdout)).toEqual(findings)
    expect(plain.stdout).toContain(findings[0]!.message)
    expect(plain.stdout).toContain(findings[0]!.fix)
  })

  it("a definition problem, an unknown step, a bad flag: exit 2, said plainly", async ({ expect }) => {
    const [definition, step, flag] = await Promise.all([
      weft(["verify", path.relative(repoRoot, path.join(fixtures, "unknown-need.ts"))]),
      weft(["verify", appending, "raed"]),
      weft(["verify", appending, "--runs", "0"])
    ])
    for (const r of [definition, step, flag]) {
      expect(r.code, shown(r)).toBe(2)
      expect(stackFrames(r.stderr)).toEqual([])
      expect(r.stdout).toBe("")
    }
    expect(definition.stderr).toMatch(/needs "biuld", which is not a step of this workflow\. Did you mean "build"\?/)
    expect(step.stderr).toMatch(/appending\.ts, workflow "appending" has a problem:\n  - step "raed": there is no step "raed" to run/)
    expect(flag.stderr).toMatch(/^weft: --runs must be a whole number of at least 1, not "0"\nRun `weft verify --help` for its options\.$/m)
  })

  it("naming a step verifies it and what it needs only", async ({ expect }) => {
    const r = await weft(["verify", appending, "b", "--runs", "5", "--reporter", "json"])
    expect(r.code, shown(r)).toBe(0)
  })
})

describe("weft verify's help", () => {
  it("weft help verify lists its flags; weft --help lists the command", async ({ expect }) => {
    const help = await callMain(["help", "verify"])
    expect(help.code).toBe(0)
    for (const flag of ["--runs N", "--seed S", "--concurrency N", "--faults", "--no-trace", "--reporter R"]) expect(help.stdout).toContain(flag)
    expect(help.stdout).toMatch(/Exit codes: 0 nothing found, 1 findings, 2 bad workflow or usage, 130\s+interrupted/)
    expect((await callMain(["--help"])).stdout).toMatch(/^ {2}weft verify \[file\] \[step\.\.\.\] \[options\] +find steps whose result depends on the schedule/m)
  })
})

describe("Ctrl-C during weft verify", () => {
  let running: { weft: RunningWeft; pids: Array<{ child: number; grandchild: number }> } | undefined
  afterEach(() => {
    running?.weft.child.kill("SIGKILL")
    for (const { child, grandchild } of running?.pids ?? []) {
      for (const pid of [-child, child, grandchild]) {
        try {
          process.kill(pid, "SIGKILL")
        } catch {}
      }
    }
    running = undefined
  })

  it("stops the search, tears down the steps' processes and exits 130", async ({ expect }) => {
    const dir = tempDir("weft-verify-interrupt-")
    const w = startWeft(["verify", path.relative(repoRoot, path.join(fixtures, "interrupt/workflow.ts")), "--reporter", "plain"], { env: { WEFT_PID_DIR: dir } })
    const files = ["one", "two", "three"].map((name) => path.join(dir, `${name}.json`))
    await waitFor(() => files.every(existsSync), 30_000, "the pid files")
    running = { weft: w, pids: files.map((file) => JSON.parse(readFileSync(file, "utf8")) as { child: number; grandchild: number }) }
    w.child.kill("SIGINT")
    // A bound for a hang (a search that never heard the signal), not a speed.
    const r = await Promise.race([w.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error("weft verify did not exit within 20 s of Ctrl-C")), 20_000))])
    expect(r.code, shown(r)).toBe(130)
    expect(r.stderr).toMatch(/Ctrl-C: stopping the search/)
    expect(r.stdout).toMatch(/^○ interrupt: .* · interrupted\n$/m)
    const left = running.pids.flatMap(({ child, grandchild }) => [child, grandchild].filter(alive).concat(groupMembers(child)))
    expect(left).toEqual([])
  })
})
