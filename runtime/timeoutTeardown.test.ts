/**
 * A step's timeout tears down what the step started in sessions of its own
 * (`setsid`, a double-forked daemon), not only its process group. The other
 * teardowns, through the CLI: `cli/interruptDaemons.test.ts`.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { expect, it } from "vitest"
import { cmd } from "../dsl/Command.ts"
import { workflow } from "../dsl/Workflow.ts"
import { run } from "./Run.ts"

const daemons = path.resolve(import.meta.dirname, "../test/fixtures/cli/interrupt/daemons.mjs")

const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return false
  }
}

it.runIf(process.platform === "linux")("a timed-out step's setsid and daemonized processes are gone when it ends", async () => {
  const pidFile = path.join(mkdtempSync(path.join(tmpdir(), "weft-timeout-")), "daemons.json")
  const wf = workflow("t").step("daemons", { timeout: "3 seconds" }, cmd([process.execPath, daemons, pidFile]))
  const result = await run(wf, {})
  expect(result.steps.daemons!.status).toBe("failed")
  // The daemons were up before the timeout (else this proves nothing)…
  expect(existsSync(pidFile)).toBe(true)
  const pids = Object.values(JSON.parse(readFileSync(pidFile, "utf8")) as Record<string, number>)
  try {
    // …and gone once the step has ended.
    expect(pids.filter(alive)).toEqual([])
  } finally {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {}
    }
  }
}, 20_000)
