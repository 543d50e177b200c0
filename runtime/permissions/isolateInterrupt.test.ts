/**
 * Ctrl-C against a real `weft run` while an isolated step's Node process runs
 * (test/fixtures/isolate/interrupt.ts): weft exits 130, reports the step
 * cancelled, and the child is gone, ended by weft's teardown (SIGTERM) before
 * weft exits rather than by the SIGKILL weft's exit hook sends as a last resort.
 */
import { existsSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import type { EventOf } from "../Event.ts"
import { alive, eventsOf, groupMembers, repoRoot, removeTempDirs, startWeft, tempDir, waitFor, type RunningWeft } from "../../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const workflowFile = path.relative(repoRoot, path.join(repoRoot, "test/fixtures/isolate/interrupt.ts"))

let left: { weft: RunningWeft; pid: number } | undefined

afterEach(() => {
  // Whatever a failed assertion left running must not outlive the test.
  if (left === undefined) return
  left.weft.child.kill("SIGKILL")
  for (const pid of [-left.pid, left.pid]) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {}
  }
  left = undefined
})

describe("Ctrl-C during weft run, with an isolated step running", () => {
  it("exits 130, reports the step cancelled, and leaves no child behind", async () => {
    const dir = tempDir("weft-isolate-interrupt-")
    const weft = startWeft(["run", workflowFile, "--reporter", "json"], { env: { WEFT_PID_DIR: dir } })
    const exitedEarly = weft.exited.then((r) => {
      throw new Error(`weft exited (${r.code}) before the isolated step was up:\n${r.stdout}\n${r.stderr}`)
    })
    exitedEarly.catch(() => {})
    const pidFile = path.join(dir, "pid")
    await Promise.race([waitFor(() => existsSync(pidFile), 10_000, "the isolated step's pid"), exitedEarly])
    const pid = Number(readFileSync(pidFile, "utf8"))
    left = { weft, pid }
    expect(pid).toBeGreaterThan(0)
    expect(pid).not.toBe(weft.child.pid)
    expect(alive(pid)).toBe(true)

    weft.child.kill("SIGINT")
    // A child left running would keep weft alive over its IPC channel: fail here, not at the test's timeout.
    const r = await Promise.race([
      weft.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("weft did not exit within 5 s of Ctrl-C")), 5000))
    ])
    expect(r.code, r.stderr).toBe(130)
    const end = eventsOf(r.stdout).find((e): e is EventOf<"step:end"> => e.type === "step:end" && e.step === "long")
    expect(end?.status).toBe("cancelled")
    expect(eventsOf(r.stdout).at(-1)).toMatchObject({ type: "run:end", status: "cancelled" })
    // weft waits for the child's group to be gone before it exits: no polling here.
    expect(alive(pid)).toBe(false)
    expect(groupMembers(pid)).toEqual([])
    // The child was asked to stop (SIGTERM, with the grace), not just killed at weft's exit.
    expect(readFileSync(path.join(dir, "terminated"), "utf8")).toBe(String(pid))
  })
})
