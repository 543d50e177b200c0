import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cmd, shell, type Command } from "../dsl/Command.ts"
import { makeLineSplitter } from "./internal/lineSplitter.ts"
import { setSpawnerMode } from "./internal/spawner.ts"
import { CommandError, runCommand, type RunCommandOptions } from "./Process.ts"

const node = process.execPath
const tree = path.resolve(import.meta.dirname, "../test/fixtures/tree.mjs")

type Line = readonly ["stdout" | "stderr", string]

/** Runs `command`, collecting every line it prints. */
const run = (command: Command, options: Partial<RunCommandOptions> = {}) => {
  const lines: Array<Line> = []
  const effect = runCommand(command, {
    cwd: process.cwd(),
    env: process.env,
    onLine: (stream, text) => lines.push([stream, text]),
    ...options
  })
  return { lines, effect }
}

const failure = async (command: Command): Promise<CommandError> =>
  Effect.runPromise(Effect.flip(run(command).effect))

/** Starts `command` and waits for its first output line, so its processes are up. */
const startAndWaitForLine = (command: Command, options: Partial<RunCommandOptions> = {}) => {
  let ready!: (text: string) => void
  const firstLine = new Promise<string>((resolve) => (ready = resolve))
  const fiber = Effect.runFork(run(command, { onLine: (_, text) => ready(text), ...options }).effect)
  return { fiber, firstLine }
}

/** Whether `pid` runs; a zombie counts as gone (in a container PID 1 may never reap it). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false
    throw error
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z"
  } catch {
    return process.platform !== "linux"
  }
}

const interruptTimed = async (fiber: Fiber.Fiber<unknown, unknown>): Promise<number> => {
  const started = performance.now()
  await Effect.runPromise(Fiber.interrupt(fiber))
  return performance.now() - started
}

// Every test of runCommand runs twice: through the spawner, and with Node's spawn (its fallback).
describe.each(["always", "never"] as const)("runCommand (spawner: %s)", (mode) => {
  beforeAll(() => setSpawnerMode(mode))
  afterAll(() => setSpawnerMode("auto"))

  it("passes arguments verbatim, never through a shell", async () => {
    const sentinel = path.join(tmpdir(), `weft-pwn-${process.pid}-${Date.now()}`)
    const args = [`$(touch ${sentinel})`, "; rm -rf x", "`id`", "a\nb", "it's \"quoted\"", "*", ""]
    const { effect } = run(cmd([node, "-e", "console.log(JSON.stringify(process.argv.slice(1)))", ...args]))
    const output = await Effect.runPromise(effect)
    expect(JSON.parse(output.stdout)).toEqual(args)
    expect(output).toMatchObject({ exitCode: 0, stdoutTruncated: false })
    expect(existsSync(sentinel)).toBe(false)
  })

  it("hands onLines each chunk's lines in order, instead of calling onLine", async () => {
    const batches: Array<readonly ["stdout" | "stderr", Array<string>]> = []
    const script = "for (let i = 0; i < 3000; i++) console.log('line ' + i); console.error('oops'); process.stdout.write('last')"
    const { lines, effect } = run(cmd([node, "-e", script]), { onLines: (stream, texts) => batches.push([stream, texts]) })
    await Effect.runPromise(effect)
    expect(lines).toEqual([])
    expect(batches.every(([, texts]) => texts.length > 0)).toBe(true)
    expect(batches.filter(([stream]) => stream === "stdout").flatMap(([, texts]) => texts))
      .toEqual([...Array.from({ length: 3000 }, (_, i) => `line ${i}`), "last"])
    expect(batches.filter(([stream]) => stream === "stderr").flatMap(([, texts]) => texts)).toEqual(["oops"])
  })

  it("lays command.env over the environment and resolves command.cwd against options.cwd", async () => {
    const base = mkdtempSync(path.join(tmpdir(), "weft-cwd-"))
    const script = "console.log(process.cwd(), process.env.WEFT_A, process.env.WEFT_B)"
    const { effect } = run(cmd([node, "-e", script], { cwd: "..", env: { WEFT_B: "step" } }), {
      cwd: base,
      env: { ...process.env, WEFT_A: "base", WEFT_B: "base" }
    })
    expect((await Effect.runPromise(effect)).stdout).toBe(`${path.dirname(base)} base step\n`)
  })

  it("delivers stdout and stderr lines in order, including a last line without a newline", async () => {
    const script = `
      const out = (s) => process.stdout.write(s), err = (s) => process.stderr.write(s)
      out("one\\n"); err("e1\\n"); out("two\\r\\nthree\\n\\n"); err("e2\\ne3"); out("last")`
    const { effect, lines } = run(cmd([node, "-e", script]))
    const output = await Effect.runPromise(effect)
    expect(lines.filter(([s]) => s === "stdout").map(([, t]) => t)).toEqual(["one", "two", "three", "", "last"])
    expect(lines.filter(([s]) => s === "stderr").map(([, t]) => t)).toEqual(["e1", "e2", "e3"])
    expect(output.stdout).toBe("one\ntwo\r\nthree\n\nlast")
  })

  it("cuts a 200 KiB line into 64 KiB pieces", async () => {
    const { effect, lines } = run(cmd([node, "-e", `process.stdout.write("x".repeat(200 * 1024) + "\\nend\\n")`]))
    await Effect.runPromise(effect)
    expect(lines.map(([, t]) => t.length)).toEqual([65536, 65536, 65536, 8192, 3])
    expect(lines.slice(0, 4).every(([, t]) => /^x+$/.test(t))).toBe(true)
  })

  it("decodes UTF-8 characters split across chunks", async () => {
    // Separate writes with pauses arrive as separate chunks, cutting "é" and "😀" in two.
    const script = `
      const bytes = Buffer.from("é😀 done\\n")
      const parts = [bytes.subarray(0, 1), bytes.subarray(1, 4), bytes.subarray(4)]
      const next = () => { const p = parts.shift(); if (p) { process.stdout.write(p); setTimeout(next, 20) } }
      next()`
    const { effect, lines } = run(cmd([node, "-e", script]))
    expect((await Effect.runPromise(effect)).stdout).toBe("é😀 done\n")
    expect(lines).toEqual([["stdout", "é😀 done"]])
  })

  it("keeps only the first 1 MiB of stdout and says so", async () => {
    const { effect, lines } = run(cmd([node, "-e", `process.stdout.write("z".repeat(1024 * 1024 + 10))`]))
    const output = await Effect.runPromise(effect)
    expect(output.stdout.length).toBe(1024 * 1024)
    expect(output.stdoutTruncated).toBe(true)
    expect(lines.reduce((n, [, t]) => n + t.length, 0)).toBe(1024 * 1024 + 10)
  })

  it("loses no output written just before the process exits", async () => {
    const script = `process.stdout.write(("y".repeat(1023) + "\\n").repeat(64)); process.exit(0)`
    const { effect, lines } = run(cmd([node, "-e", script]))
    const output = await Effect.runPromise(effect)
    expect(lines.length).toBe(64)
    expect(lines.reduce((n, [, t]) => n + t.length + 1, 0)).toBe(65536)
    expect(output.stdout.length).toBe(65536)
  })

  it("ends only when every process holding its output has closed it", async () => {
    // `sh` exits at once; the background subshell still writes to the same pipe.
    const { effect, lines } = run(shell(`(sleep 0.2; echo late) & echo early`))
    const output = await Effect.runPromise(effect)
    expect(lines).toEqual([["stdout", "early"], ["stdout", "late"]])
    expect(output.stdout).toBe("early\nlate\n")
  })

  it("fails with the exit code and the last stderr lines", async () => {
    const error = await failure(shell(`for i in $(seq 1 30); do echo "err $i" >&2; done; exit 2`))
    expect(error).toBeInstanceOf(CommandError)
    expect(error).toMatchObject({ _tag: "CommandError", exitCode: 2, signal: null })
    expect(error.stderrTail).toEqual(Array.from({ length: 20 }, (_, i) => `err ${i + 11}`))
    expect(error.message).toMatch(/^command "for i in .*" exited with code 2:\n {2}err 11\n/)
    expect(error.message).toMatch(/ {2}err 30$/)
  })

  it("names a program that does not exist", async () => {
    const error = await failure(cmd(["weft-no-such-program", "--flag"]))
    expect(error).toMatchObject({ exitCode: null, signal: null })
    expect(error.message).toBe("command not found: weft-no-such-program")
  })

  it("names a working directory that does not exist", async () => {
    const error = await failure(cmd([node, "-v"], { cwd: "/weft-no-such-dir" }))
    expect(error.message).toMatch(/working directory does not exist: \/weft-no-such-dir/)
  })

  it("reports a process killed by a signal", async () => {
    const error = await failure(shell(`kill -KILL $$`))
    expect(error).toMatchObject({ exitCode: null, signal: "SIGKILL" })
    expect(error.message).toBe(`command "kill -KILL $$" was killed by SIGKILL`)
  })

  it("on interruption, kills the whole process tree before interruption completes", async () => {
    const pidFile = path.join(mkdtempSync(path.join(tmpdir(), "weft-tree-")), "pids.json")
    const { fiber, firstLine } = startAndWaitForLine(cmd([node, tree, "root", pidFile]))
    expect(await firstLine).toBe("ready")
    const pids: Array<number> = JSON.parse(readFileSync(pidFile, "utf8"))
    expect(pids).toHaveLength(4)
    expect(pids.filter(alive)).toEqual(pids)

    const took = await interruptTimed(fiber)
    expect(pids.filter(alive)).toEqual([])
    // The slow grandchild takes 300 ms after SIGTERM; it was waited for, not SIGKILLed at once.
    expect(took).toBeGreaterThanOrEqual(250)
    expect(took).toBeLessThan(1500)
  })

  it("SIGKILLs a process group that ignores SIGTERM once the grace period is over", async () => {
    const { fiber, firstLine } = startAndWaitForLine(shell(`trap "" TERM; sleep 30 & echo $$ $!; wait`), { graceMs: 200 })
    const pids = (await firstLine).split(" ").map(Number)
    expect(pids.filter(alive)).toEqual(pids)

    const took = await interruptTimed(fiber)
    expect(pids.filter(alive)).toEqual([])
    expect(took).toBeGreaterThanOrEqual(190)
    expect(took).toBeLessThan(1000)
    expect(Exit.hasInterrupts(await Effect.runPromise(Fiber.await(fiber)))).toBe(true)
  })
})

describe("makeLineSplitter", () => {
  const split = (chunks: ReadonlyArray<Uint8Array>, maxBytes?: number) => {
    const lines: Array<string> = []
    const splitter = makeLineSplitter((line) => lines.push(line), maxBytes)
    chunks.forEach(splitter.push)
    splitter.end()
    return lines
  }
  const bytes = (text: string) => Buffer.from(text)

  it("decodes the same whatever the chunking, one byte at a time included", () => {
    const text = "héllo wörld\n😀😀\r\nend"
    const oneByOne = [...bytes(text)].map((b) => Uint8Array.of(b))
    expect(split(oneByOne)).toEqual(["héllo wörld", "😀😀", "end"])
    expect(split([bytes(text)])).toEqual(["héllo wörld", "😀😀", "end"])
  })

  it("cuts long lines by bytes without breaking characters, and adds no empty line at an exact fit", () => {
    expect(split([bytes("aaaa\nbbbbbbbbbb\n")], 4)).toEqual(["aaaa", "bbbb", "bbbb", "bb"])
    // "é" is two bytes: the piece holding its first byte shows it whole in the next piece.
    expect(split([bytes("aaaé" + "b\n")], 4)).toEqual(["aaa", "éb"])
  })

  it("turns a broken character into U+FFFD on its own line, not the next", () => {
    expect(split([Uint8Array.of(0xc3, 0x0a, 0x41, 0x0a)])).toEqual(["\uFFFD", "A"])
  })

  it("drops the CR of CRLF wherever the chunks are cut, and keeps a CR inside a line", () => {
    const text = "a\r\nb\rc\r\n\r\nd\r"
    const expected = ["a", "b\rc", "", "d"]
    expect(split([bytes(text)])).toEqual(expected)
    for (let cut = 1; cut < text.length; cut++) expect(split([bytes(text.slice(0, cut)), bytes(text.slice(cut))])).toEqual(expected)
  })

  it("delivers nothing for empty output and one empty line for a lone newline", () => {
    expect(split([])).toEqual([])
    expect(split([bytes("\n")])).toEqual([""])
  })
})
