/**
 * Processes a step started in sessions of their own (`setsid`, a
 * double-forked daemon) leave its process group, so a signal to the group
 * misses them. Every teardown must still end them: Ctrl-C, a second Ctrl-C,
 * SIGTERM, SIGHUP (a closed terminal), fail-fast, and weft killed outright
 * (the watchdog). Timeouts: `runtime/Process.test.ts`.
 */
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { alive, fixtures, repoRoot, removeTempDirs, startWeft, tempDir, waitFor, type RunningWeft } from "../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const workflowFile = path.relative(repoRoot, path.join(fixtures, "interrupt/workflow.ts"))
const steps = ["one", "two", "three", "daemons"] as const
/** `runCommand`'s default grace between SIGTERM and SIGKILL (runtime/Process.ts). */
const graceMs = 2000

let started: { weft: RunningWeft; pids: Array<number> } | undefined

/** Starts the workflow with its daemons step; resolves once every step has written its pids. */
const start = async (env: Record<string, string> = {}) => {
  const dir = tempDir("weft-daemons-")
  const weft = startWeft(["run", workflowFile, "--reporter", "json"], { env: { WEFT_PID_DIR: dir, WEFT_DAEMONS: "1", ...env } })
  const files = steps.map((name) => path.join(dir, `${name}.json`))
  const exitedEarly = weft.exited.then((r) => {
    throw new Error(`weft exited (${r.code}) before the steps were up:\n${r.stdout}\n${r.stderr}`)
  })
  exitedEarly.catch(() => {})
  await Promise.race([waitFor(() => files.every(existsSync), 10_000, "the pid files"), exitedEarly])
  const pids = files.flatMap((file) => Object.values(JSON.parse(readFileSync(file, "utf8")) as Record<string, number>))
  started = { weft, pids }
  return started
}

/** The processes of the daemons step that left its group: the last three recorded. */
const daemonsOf = (pids: ReadonlyArray<number>) => pids.slice(-3)

afterEach(() => {
  if (started === undefined) return
  started.weft.child.kill("SIGKILL")
  for (const pid of started.pids) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {}
  }
  started = undefined
})

describe("processes in sessions of their own", () => {
  it("are running while the step runs (else these tests prove nothing)", async () => {
    const { pids } = await start()
    expect(daemonsOf(pids).filter(alive)).toHaveLength(3)
  })

  it.for([["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const)("are ended by %s, which weft exits after tearing down", async ([signal, code]) => {
    const { weft, pids } = await start()
    weft.child.kill(signal)
    const r = await weft.exited
    expect(r.code, r.stderr).toBe(code)
    // weft waits for every process of its steps to be gone before it exits: no polling here.
    expect(pids.filter(alive)).toEqual([])
  })

  it("are ended by fail-fast", async () => {
    const { weft, pids } = await start({ WEFT_FAIL: "1" })
    const r = await weft.exited
    expect(r.code, r.stderr).toBe(1)
    expect(pids.filter(alive)).toEqual([])
  })

  it("are ended by a second Ctrl-C, which exits well within the grace period", async () => {
    const { weft, pids } = await start({ WEFT_STUBBORN: "1" })
    weft.child.kill("SIGINT")
    await waitFor(() => /cancelling running steps/.test(weft.stderr()), 5000, "the first Ctrl-C to be seen")
    const second = performance.now()
    weft.child.kill("SIGINT")
    const r = await weft.exited
    expect(r.code, r.stderr).toBe(130)
    expect(performance.now() - second).toBeLessThan(graceMs / 2)
    await waitFor(() => pids.every((pid) => !alive(pid)), 1000, "no survivors")
  })

  it("are ended by the watchdog when weft is killed outright", async () => {
    const { weft, pids } = await start()
    weft.child.kill("SIGKILL")
    await weft.exited
    await waitFor(() => pids.every((pid) => !alive(pid)), graceMs + 3000, "no survivors")
  })
})
