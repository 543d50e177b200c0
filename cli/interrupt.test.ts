/**
 * Ctrl-C against a real `weft run` with three process trees running
 * (test/fixtures/cli/interrupt): weft exits 130, reports the steps cancelled,
 * and leaves no process behind, ever. Test 13 of the reliability plan, in the
 * pipe variant.
 */
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import type { EventOf } from "../runtime/Event.ts"
import { alive, eventsOf, fixtures, groupMembers, repoRoot, removeTempDirs, startWeft, tempDir, waitFor, type RunningWeft } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const workflowFile = path.relative(repoRoot, path.join(fixtures, "interrupt/workflow.ts"))
const trees = ["one", "two", "three"] as const
/** `runCommand`'s default grace between SIGTERM and SIGKILL (runtime/Process.ts). */
const graceMs = 2000

interface Started {
  readonly weft: RunningWeft
  /** Each tree's pids: the step's process (a group leader) and its grandchild. */
  readonly pids: ReadonlyArray<{ readonly child: number; readonly grandchild: number }>
}

let current: Started | undefined

/** Starts the workflow and waits until all three trees have written their pids. */
const start = async (env: Record<string, string> = {}): Promise<Started> => {
  const dir = tempDir("weft-interrupt-")
  const weft = startWeft(["run", workflowFile, "--reporter", "json"], { env: { WEFT_PID_DIR: dir, ...env } })
  const files = trees.map((name) => path.join(dir, `${name}.json`))
  const exitedEarly = weft.exited.then((r) => {
    throw new Error(`weft exited (${r.code}) before the trees were up:\n${r.stdout}\n${r.stderr}`)
  })
  exitedEarly.catch(() => {})
  // A bound for a hang, not a speed: weft from its sources and three trees start slowly on a loaded machine.
  await Promise.race([waitFor(() => files.every(existsSync), 30_000, "the pid files"), exitedEarly])
  const pids = files.map((file) => JSON.parse(readFileSync(file, "utf8")) as { child: number; grandchild: number })
  current = { weft, pids }
  return current
}

/** Every recorded process, and anything else left in the trees' process groups. */
const survivors = ({ pids }: Started): Array<number> => [
  ...new Set([
    ...pids.flatMap(({ child, grandchild }) => [child, grandchild]).filter(alive),
    ...pids.flatMap(({ child }) => groupMembers(child))
  ])
]

const cancelledSteps = (stdout: string) =>
  eventsOf(stdout)
    .filter((e): e is EventOf<"step:end"> => e.type === "step:end" && e.status === "cancelled")
    .map((e) => e.step)
    .sort()

afterEach(() => {
  // Whatever a failed assertion left running must not outlive the test.
  if (current === undefined) return
  current.weft.child.kill("SIGKILL")
  for (const { child, grandchild } of current.pids) {
    for (const pid of [-child, child, grandchild]) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {}
    }
  }
  current = undefined
})

describe("Ctrl-C during weft run", () => {
  it("exits 130 promptly, reports the steps cancelled, and leaves no process behind", async () => {
    const started = await start()
    expect(survivors(started)).toHaveLength(6)
    const sent = performance.now()
    started.weft.child.kill("SIGINT")
    const r = await started.weft.exited
    const took = performance.now() - sent
    expect(r.code, r.stderr).toBe(130)
    expect(took).toBeLessThan(3000)
    expect(r.stderr).toMatch(/Ctrl-C: cancelling running steps/)
    expect(cancelledSteps(r.stdout)).toEqual([...trees].sort())
    expect(eventsOf(r.stdout).at(-1)).toMatchObject({ type: "run:end", status: "cancelled" })
    // weft waits for every group to be gone before it exits: no polling here.
    expect(survivors(started)).toEqual([])
  })

  it("SIGKILLs trees that ignore SIGTERM once the grace period is over", async () => {
    const started = await start({ WEFT_STUBBORN: "1" })
    const sent = performance.now()
    started.weft.child.kill("SIGINT")
    const r = await started.weft.exited
    const took = performance.now() - sent
    expect(r.code, r.stderr).toBe(130)
    // The trees really did ignore SIGTERM (else this test proves nothing), and the grace is bounded.
    expect(took).toBeGreaterThan(graceMs - 200)
    expect(took).toBeLessThan(graceMs + 1500)
    expect(cancelledSteps(r.stdout)).toEqual([...trees].sort())
    expect(survivors(started)).toEqual([])
  })

  it("a second Ctrl-C forces the exit at once and still kills every group", async () => {
    const started = await start({ WEFT_STUBBORN: "1" })
    started.weft.child.kill("SIGINT")
    await waitFor(() => /cancelling running steps/.test(started.weft.stderr()), 2000, "the first Ctrl-C to be seen")
    const second = performance.now()
    started.weft.child.kill("SIGINT")
    const r = await started.weft.exited
    expect(r.code, r.stderr).toBe(130)
    // At once, not after the grace (2 s from the first Ctrl-C): half of it is a margin a loaded machine keeps.
    expect(performance.now() - second).toBeLessThan(graceMs / 2)
    expect(r.stderr).toMatch(/forced exit/)
    // SIGKILL was sent before weft exited; give the kernel a moment to deliver it.
    await waitFor(() => survivors(started).length === 0, 500, `no survivors (left: ${survivors(started).join(", ")})`)
  })

  it("fail-fast: a failing step tears down the running commands, exit 1", async () => {
    const started = await start({ WEFT_FAIL: "1" })
    const r = await started.weft.exited
    expect(r.code, r.stderr).toBe(1)
    const ends = new Map(eventsOf(r.stdout).filter((e): e is EventOf<"step:end"> => e.type === "step:end").map((e) => [e.step, e]))
    expect(ends.get("fail")).toMatchObject({ status: "failed", error: "failing while the trees run (fixture)" })
    expect(cancelledSteps(r.stdout)).toEqual([...trees].sort())
    expect(survivors(started)).toEqual([])
  })
})

describe("weft killed outright (SIGKILL: no code of weft's runs)", () => {
  it("its watchdog ends every group weft started: SIGTERM at once, SIGKILL after the grace", async () => {
    const started = await start()
    expect(survivors(started)).toHaveLength(6)
    started.weft.child.kill("SIGKILL")
    await started.weft.exited
    await waitFor(() => survivors(started).length === 0, 2000, `no survivors (left: ${survivors(started).join(", ")})`)
  })

  it("trees that ignore SIGTERM are SIGKILLed after the grace", async () => {
    const started = await start({ WEFT_STUBBORN: "1" })
    started.weft.child.kill("SIGKILL")
    await started.weft.exited
    // Still there within the grace: they ignore SIGTERM (else this test proves nothing)…
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(survivors(started).length).toBeGreaterThan(0)
    // …and gone after it.
    await waitFor(() => survivors(started).length === 0, graceMs + 2000, `no survivors (left: ${survivors(started).join(", ")})`)
  })
})
