/**
 * What the spawner must keep of a direct spawn: a session and process group
 * per job, argv, environment and directory exactly as sent, the exact exit
 * status, signal dispositions reset, separate output per job, and nothing
 * left behind when weft dies. The rest of `runCommand`'s suite runs through
 * it too (`Process.test.ts`).
 */
import { spawn } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import type { Readable } from "node:stream"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cmd, shell, type Command } from "../../dsl/Command.ts"
import { alive, removeTempDirs, tempDir, waitFor } from "../../test/fixtures/cli/harness.ts"
import { runCommand } from "../Process.ts"
import { launch } from "./launch.ts"
import { setSpawnerMode, spawnerProcess } from "./spawner.ts"

const node = process.execPath

const run = (command: Command, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()) => {
  const lines: Array<string> = []
  const effect = runCommand(command, { cwd, env, onLine: (_, text) => lines.push(text) })
  return { lines, effect }
}
const output = async (command: Command, env?: NodeJS.ProcessEnv, cwd?: string) => (await Effect.runPromise(run(command, env, cwd).effect)).stdout
const failure = (command: Command) => Effect.runPromise(Effect.flip(run(command).effect))

/** `/proc/<pid>/stat`'s ppid, pgrp and session. */
const statOf = (text: string) => {
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
  return { ppid: Number(fields[1]), pgrp: Number(fields[2]), session: Number(fields[3]) }
}

const linux = process.platform === "linux" && existsSync("/usr/bin/perl")

describe.runIf(linux)("the spawner", () => {
  beforeAll(() => setSpawnerMode("always"))
  afterAll(() => {
    setSpawnerMode("auto")
    removeTempDirs()
  })

  it("starts each job as the leader of its own session and process group, as its child", async () => {
    const script = `const fs = require("fs"); console.log(process.pid, fs.readFileSync("/proc/self/stat", "utf8"))`
    const [pid, ...stat] = (await output(cmd([node, "-e", script]))).trim().split(" ")
    const { ppid, pgrp, session } = statOf(stat.join(" "))
    expect(pgrp).toBe(Number(pid))
    expect(session).toBe(Number(pid))
    expect(ppid).toBe(spawnerProcess()?.pid)
  })

  it("hands a job no ignored or blocked signal (a shell's background job would ignore SIGINT and SIGQUIT)", async () => {
    const status = await output(cmd(["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]))
    expect(status).toBe("SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n")
  })

  it("passes argv, environment values and the directory exactly as sent", async () => {
    const base = tempDir("weft-spawner-cwd-")
    const script = "console.log(JSON.stringify({ argv: process.argv.slice(1), env: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('WEFT_T_'))), cwd: process.cwd() }))"
    // Words a shell would take apart, and every kind of character but NUL (which no argv can hold).
    const word = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 12 }),
      fc.constantFrom("", " ", "a b", "'", `"`, "$HOME", "$(id)", "`id`", "\n", "a\nb", "\\", "*", "~", "-e", "é😀", "=", "a=b", "%s")
    ).filter((s) => !s.includes("\0"))
    await fc.assert(
      fc.asyncProperty(fc.array(word, { maxLength: 6 }), fc.dictionary(fc.stringMatching(/^[A-Z0-9_]{1,6}$/), word, { maxKeys: 4 }), word, async (args, values, dirName) => {
        const env = Object.fromEntries(Object.entries(values).map(([k, v]) => [`WEFT_T_${k}`, v]))
        const dir = path.join(base, `d${dirName.replaceAll("/", "_")}`)
        mkdirSync(dir, { recursive: true })
        const got = JSON.parse(await output(cmd([node, "-e", script, "--", ...args], { env }), { PATH: process.env.PATH }, dir))
        expect(got).toEqual({ argv: args, env, cwd: dir })
      }),
      { numRuns: 25 }
    )
  }, 60_000)

  it("gives the exact exit status: a code over 128 is not taken for a signal, nor a signal for a code", async () => {
    expect(await failure(shell("exit 130"))).toMatchObject({ exitCode: 130, signal: null })
    expect(await failure(shell("exit 255"))).toMatchObject({ exitCode: 255, signal: null })
    expect(await failure(shell("kill -INT $$"))).toMatchObject({ exitCode: null, signal: "SIGINT" })
    expect(await failure(shell("kill -TERM $$"))).toMatchObject({ exitCode: null, signal: "SIGTERM" })
    expect(await failure(shell("kill -SEGV $$"))).toMatchObject({ exitCode: null, signal: "SIGSEGV" })
  })

  it("names a program that is not executable, and a directory given as the program", async () => {
    const file = path.join(tempDir("weft-spawner-x-"), "script.sh")
    writeFileSync(file, "#!/bin/sh\necho hi\n")
    chmodSync(file, 0o644)
    expect((await failure(cmd([file]))).message).toBe(`permission denied: ${file} (is it executable?)`)
    expect((await failure(cmd([path.dirname(file)]))).message).toBe(`permission denied: ${path.dirname(file)} (is it executable?)`)
    // The slot of a job whose exec failed is reused cleanly.
    expect(await output(cmd(["echo", "after"]))).toBe("after\n")
  })

  it("keeps the output of many concurrent jobs apart, beyond the first batch of FIFOs", async () => {
    const jobs = Array.from({ length: 40 }, (_, i) => run(shell(`i=0; while [ $i -lt 300 ]; do echo "job ${i} line $i"; i=$((i+1)); done; echo "job ${i} err" >&2`)))
    await Effect.runPromise(Effect.all(jobs.map((job) => job.effect), { concurrency: "unbounded" }))
    jobs.forEach((job, i) => {
      expect(job.lines).toHaveLength(301)
      expect(job.lines.every((line) => line.startsWith(`job ${i} `))).toBe(true)
    })
  }, 30_000)

  it("an interruption that comes before the spawner has said the pid still ends the job", async () => {
    const mark = `30.${process.pid}${Date.now() % 100000}`
    const running = () =>
      readdirSync("/proc").filter((pid) => {
        try {
          return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, "utf8") === `sleep\0${mark}\0` && alive(Number(pid))
        } catch {
          return false
        }
      })
    const fiber = Effect.runFork(run(cmd(["sleep", mark])).effect)
    // At once, in the same turn: the request is not even written yet.
    await Effect.runPromise(Fiber.interrupt(fiber))
    expect(running()).toEqual([])
  })

  it("holds a job that prints faster than weft reads: it blocks on the full FIFO, and nothing is lost", async () => {
    const bytes = 16 * 1024 * 1024
    let pid = 0
    let paused!: Readable
    let received = 0
    const closed = new Promise<number | null>((resolve, reject) =>
      launch({ argv: ["head", "-c", String(bytes), "/dev/zero"], cwd: process.cwd(), env: process.env }, {
        start: (started, stdout, stderr) => {
          pid = started
          paused = stdout.pause()
          stdout.on("data", (chunk: Buffer) => (received += chunk.length))
          stderr.resume()
        },
        error: reject,
        close: (code) => resolve(code)
      }))
    await waitFor(() => pid !== 0, 5000, "the job to start")
    // Unread, its output cannot go anywhere: it is still there, blocked, long after it would have finished.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(alive(pid)).toBe(true)
    expect(received).toBe(0)
    paused.resume()
    expect(await closed).toBe(0)
    expect(received).toBe(bytes)
  })

  /** Starts the host (`test/fixtures/spawnerHost.ts`); resolves with the spawner it printed and the pid in `pidFile`. */
  const host = async (...args: Array<string>) => {
    const pidFile = path.join(tempDir("weft-spawner-host-"), "pid")
    const program = path.resolve(import.meta.dirname, "../../test/fixtures/spawnerHost.ts")
    const child = spawn(node, ["--conditions=weft-source", program, pidFile, ...args], {
      cwd: path.resolve(import.meta.dirname, "../.."),
      env: { ...process.env, WEFT_SPAWNER: "1" },
      stdio: ["ignore", "pipe", "inherit"]
    })
    const helper = await new Promise<{ pid: number; dir: string }>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (text: string) => resolve(JSON.parse(text.split("\n")[0]!)))
      child.on("exit", (code) => reject(new Error(`the host exited ${code}`)))
    })
    return { child, helper, pid: Number(readFileSync(pidFile, "utf8")) }
  }

  it("exits with weft when weft is killed outright, removing its FIFOs, and ends the job's tree", async () => {
    const { child, helper, pid: job } = await host()
    expect(alive(helper.pid) && alive(job)).toBe(true)
    expect(existsSync(helper.dir)).toBe(true)
    child.kill("SIGKILL")
    await waitFor(() => !alive(helper.pid) && !alive(job), 5000, "the spawner and the job gone")
    expect(existsSync(helper.dir)).toBe(false)
  }, 20_000)

  it("on a normal exit, leaves alone what a closed step left running", async () => {
    const { child, helper, pid: sleeper } = await host("--leave")
    try {
      await new Promise((resolve) => child.on("exit", resolve))
      await waitFor(() => !alive(helper.pid), 5000, "the spawner gone")
      expect(existsSync(helper.dir)).toBe(false)
      // Had the spawner handed the step to the watchdog's program, that would
      // have sent SIGTERM after one look at /proc (tens of ms; SIGKILL at 2 s).
      await new Promise((resolve) => setTimeout(resolve, 3000))
      expect(alive(sleeper)).toBe(true)
    } finally {
      try {
        process.kill(sleeper, "SIGKILL")
      } catch {} // already gone: the assertion above says why
    }
  }, 20_000)
})
