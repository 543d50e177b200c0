/**
 * The spawner killed under weft (by a user, the OOM killer): a command it
 * was running fails with an error saying so, never a silent success; the
 * watchdog takes over its tree; later commands start with Node's `spawn`; and
 * its folder is removed. (A file of its own: the failure is for good.)
 */
import { existsSync } from "node:fs"
import * as Effect from "effect/Effect"
import { afterAll, beforeAll, expect, it } from "vitest"
import { cmd } from "../../dsl/Command.ts"
import { waitFor } from "../../test/fixtures/cli/harness.ts"
import { runCommand } from "../Process.ts"
import { setSpawnerMode, spawnerProcess } from "./spawner.ts"
import { watchdogPid } from "./watchdog.ts"

beforeAll(() => setSpawnerMode("always"))
afterAll(() => setSpawnerMode("auto"))

const options = { cwd: process.cwd(), env: process.env, onLine: () => {} }

it.runIf(process.platform === "linux" && existsSync("/usr/bin/perl"))("a killed spawner fails the command in flight, hands it to the watchdog, and is not used again", async () => {
  let line!: (text: string) => void
  const printed = new Promise<string>((resolve) => (line = resolve))
  // Prints once running, then holds its output open a moment past the spawner's death.
  const inFlight = Effect.runPromise(Effect.flip(runCommand(cmd(["sh", "-c", "echo up; sleep 0.3"]), { ...options, onLine: (_, text) => line(text) })))
  expect(await printed).toBe("up")
  const helper = spawnerProcess()!
  process.kill(helper.pid!, "SIGKILL")

  const error = await inFlight
  expect(error.message).toBe("sh: weft's process spawner exited while it ran (was it killed?), so its exit status is unknown")
  expect(watchdogPid()).toBeDefined()
  await waitFor(() => !existsSync(helper.dir), 2000, "the spawner's folder removed")

  const next = await Effect.runPromise(runCommand(cmd(["sh", "-c", "echo $PPID"]), options))
  expect(Number(next.stdout)).toBe(process.pid)
})
