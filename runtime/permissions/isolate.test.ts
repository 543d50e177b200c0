/**
 * `permissions: { isolate: true }`: a function step in its own Node process
 * under Node's permission model. Each test runs real child processes, from a
 * workflow file written to a temporary folder (the child imports it).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { homedir, tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { Event } from "../Event.ts"
import { workflow } from "../../dsl/Workflow.ts"
import { groupAlive } from "../Process.ts"
import { run } from "../Run.ts"
import { removeRunDirs, runFile } from "../../test/fixtures/isolate/runFile.ts"
import { weftRoot } from "./isolate.ts"
import { baseEnvNames } from "./StepEnv.ts"
import { permissionsProblems } from "../../dsl/permissionsOptions.ts"

const outsideDirs: Array<string> = []
afterAll(() => {
  removeRunDirs()
  for (const dir of outsideDirs) rmSync(dir, { recursive: true, force: true })
})

/** Runs `f` with `vars` set in weft's environment, then puts back what was there (a variable that was unset is unset again). */
const withEnv = async <A>(vars: Readonly<Record<string, string>>, f: () => Promise<A>): Promise<A> => {
  const before = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]))
  Object.assign(process.env, vars)
  try {
    return await f()
  } finally {
    for (const [name, value] of Object.entries(before)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/**
 * Live processes whose working directory is `dir`: an isolated child runs in
 * its step's folder (the test's own temporary one), so this finds it even when
 * it was ended before it could say its pid. Zombies have no cwd, and count as gone.
 */
const processesIn = (dir: string): Array<number> =>
  readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => {
    try {
      return readlinkSync(`/proc/${entry}/cwd`) === dir ? [Number(entry)] : []
    } catch {
      return []
    }
  })

const logsOf = (events: ReadonlyArray<Event>, step: string) =>
  events.flatMap((event) => (event.type === "step:log" && event.step === step ? [event.text] : []))

describe("isolate: true", () => {
  it("runs the step in another process: inputs and output cross by structured clone, logs come back; other steps stay in-process", async () => {
    const { result, events } = await runFile(`
      .step("a", () => ({ when: new Date(Date.UTC(2024, 0, 1)), m: new Map([["k", 21]]) }))
      .step("b", { needs: ["a"], permissions: { isolate: true } }, ({ a }, ctx) => {
        ctx.log("in child", a.m instanceof Map)
        console.log("console too")
        return { pid: process.pid, out: new Map([["double", a.m.get("k") * 2], ["year", a.when.getUTCFullYear()]]), at: new Date(0) }
      })
      .step("c", () => process.pid)`)
    expect(result.status).toBe("succeeded")
    const b = result.outputs.b as { pid: number; out: Map<string, number>; at: Date }
    expect(b.out).toEqual(new Map([["double", 42], ["year", 2024]]))
    expect(b.at).toBeInstanceOf(Date)
    expect(b.pid).not.toBe(process.pid)
    expect(result.outputs.c).toBe(process.pid)
    expect(logsOf(events, "b")).toEqual(["in child true", "console too"])
  })

  it("keeps Node's compile cache in .weft/compile-cache, one folder per set of permissions, and cannot write beside it", async () => {
    const { dir, result } = await runFile(`
      .step("one", { permissions: { isolate: true } }, () => 1)
      .step("two", { permissions: { isolate: true, read: ["data/**"] } }, () => 2)
      .step("escape", { permissions: { isolate: true } }, () => writeFileSync(".weft/elsewhere.txt", "no"))`,
      { "data/.keep": "" })
    expect(result.outputs).toMatchObject({ one: 1, two: 2 })
    const folders = readdirSync(path.join(dir, ".weft", "compile-cache"))
    // "one" and "escape" have the same permissions; "two" reads more.
    expect(folders).toHaveLength(2)
    expect(folders.some((f) => readdirSync(path.join(dir, ".weft", "compile-cache", f)).length > 0)).toBe(true)
    expect(result.steps.escape?.error).toBe(`step "escape" may not write ${dir}/.weft/elsewhere.txt: declare it in permissions.write`)
  })

  it("reads a declared file; an undeclared read fails naming the step, the path and permissions.read", async () => {
    const { dir, result } = await runFile(`
      .step("declared", { permissions: { isolate: true, read: ["data/**"] } }, () => readFileSync("data/in.txt", "utf8"))
      .step("undeclared", { permissions: { isolate: true, read: ["data/**"] } }, () => readFileSync("secret.txt", "utf8"))`,
      { "data/in.txt": "hello", "secret.txt": "no" })
    expect(result.outputs.declared).toBe("hello")
    expect(result.steps.undeclared?.status).toBe("failed")
    expect(result.steps.undeclared?.error).toBe(`step "undeclared" may not read ${dir}/secret.txt: declare it in permissions.read`)
  })

  it("writes only declared paths", async () => {
    const { dir, result } = await runFile(`
      .step("inside", { permissions: { isolate: true, write: ["out/**"] } }, () => writeFileSync("out/x.txt", "ok"))
      .step("outside", { permissions: { isolate: true, write: ["out/**"] } }, () => writeFileSync("elsewhere.txt", "no"))`,
      { "out/.keep": "" })
    expect(readFileSync(path.join(dir, "out/x.txt"), "utf8")).toBe("ok")
    expect(result.steps.outside?.error).toBe(`step "outside" may not write ${dir}/elsewhere.txt: declare it in permissions.write`)
  })

  it("starts processes only with run: true", async () => {
    const { result } = await runFile(`
      .step("denied", { permissions: { isolate: true } }, () => execFileSync("true").toString())
      .step("allowed", { permissions: { isolate: true, run: true } }, () => execFileSync("echo", ["hi"]).toString())`)
    expect(result.steps.denied?.error).toMatch(/^step "denied" may not start a process \(.*\): declare permissions\.run: true, or list the programs it runs, like run: \["git"\]$/)
    expect(result.outputs.allowed).toBe("hi\n")
  })

  it("run: [programs] starts only those, by name or path; no shell, no workers", async () => {
    const { result } = await runFile(`
      .step("listed", { permissions: { isolate: true, run: ["echo"] } }, () => execFileSync("echo", ["hi"]).toString())
      .step("byPath", { permissions: { isolate: true, run: ["echo"] } }, async () => {
        const { spawnSync } = await import("node:child_process")
        return spawnSync("/bin/echo", ["path"]).stdout.toString()
      })
      .step("other", { permissions: { isolate: true, run: ["echo"] } }, () => execFileSync("true").toString())
      .step("shell", { permissions: { isolate: true, run: ["echo"] } }, async () => {
        const { execSync } = await import("node:child_process")
        return execSync("echo hi; true").toString()
      })
      .step("shellOption", { permissions: { isolate: true, run: ["echo"] } }, () => execFileSync("echo", ["x"], { shell: true }).toString())
      .step("worker", { permissions: { isolate: true, run: ["echo"] } }, async () => {
        const { Worker } = await import("node:worker_threads")
        new Worker("setTimeout(() => {}, 10)", { eval: true })
      })`)
    expect(result.outputs.listed).toBe("hi\n")
    expect(result.outputs.byPath).toBe("path\n")
    expect(result.steps.other?.error).toBe(`step "other" may not run true: add it to permissions.run, like run: ["true"]`)
    expect(result.steps.shell?.error).toBe(
      `step "shell" may not run a shell command (echo hi; true): permissions.run lists programs, and a shell runs anything; start the program directly (execFile("git", [...])), or declare run: true`
    )
    expect(result.steps.shellOption?.error).toMatch(/^step "shellOption" may not run a shell command \(echo\)/)
    expect(result.steps.worker?.error).toBe(`step "worker" may not start a worker thread: declare permissions.run: true`)
  })

  it("denies what was not declared even where it matters most: ~/.ssh, and native addons", async () => {
    const { result } = await runFile(`
      .step("ssh", { permissions: { isolate: true } }, () => readFileSync(${JSON.stringify(path.join(homedir(), ".ssh", "id_rsa"))}))
      .step("addon", { permissions: { isolate: true } }, () => process.dlopen({ exports: {} }, "/nonexistent/addon.node"))`)
    expect(result.steps.ssh?.error).toBe(`step "ssh" may not read ${path.join(homedir(), ".ssh", "id_rsa")}: declare it in permissions.read`)
    expect(result.steps.addon?.error).toBe(`step "addon" may not load a native addon: isolated steps run without them; run this step without isolate: true`)
  })

  it("known hole, as documented: a symlink inside a declared folder is followed outside it (Node's permission model does so)", async () => {
    const outside = realpathSync(mkdtempSync(path.join(tmpdir(), "weft-outside-")))
    outsideDirs.push(outside)
    const target = path.join(outside, "target.txt")
    writeFileSync(target, "outside")
    const { result } = await runFile(`
      .step("follow", { permissions: { isolate: true, read: ["data/**"] } }, () => readFileSync("data/link.txt", "utf8"))
      .step("direct", { permissions: { isolate: true, read: ["data/**"] } }, () => readFileSync(${JSON.stringify(target)}, "utf8"))`,
      { "data/.keep": "" }, {}, (dir) => symlinkSync(target, path.join(dir, "data", "link.txt")))
    expect(result.outputs.follow).toBe("outside")
    expect(result.steps.direct?.error).toBe(`step "direct" may not read ${target}: declare it in permissions.read`)
  })

  it("kills the child's process group when the step times out", async () => {
    const { dir, result, events } = await runFile(`
      .step("slow", { timeout: "500 millis", permissions: { isolate: true } }, (_, ctx) => {
        ctx.log(String(process.pid))
        return new Promise(() => setInterval(() => {}, 1000))
      })`)
    expect(result.steps.slow?.status).toBe("failed")
    expect(result.steps.slow?.error).toBe("timed out after 500 ms")
    // On a loaded machine the child may not have booted far enough to log its pid within the timeout: it is killed all the same.
    for (const pid of logsOf(events, "slow").map(Number)) expect(groupAlive(pid)).toBe(false)
    expect(processesIn(dir)).toEqual([])
  })

  it("fail-fast: a sibling's failure ends the run at once and takes the child down, even one busy in a loop", async () => {
    let pid = 0
    try {
      const { dir, result, events } = await runFile(`
        .step("busy", { permissions: { isolate: true, write: ["run"] } }, () => {
          writeFileSync(new URL("run/pid", import.meta.url), String(process.pid))
          for (;;) {}
        })
        .step("boom", async () => {
          while (!existsSync(new URL("run/pid", import.meta.url))) await new Promise((resolve) => setTimeout(resolve, 10))
          throw new Error("boom (fixture)")
        })`, { "run/.keep": "" }, { failFast: true, concurrency: 2 })
      pid = Number(readFileSync(path.join(dir, "run/pid"), "utf8"))
      expect(result.status).toBe("failed")
      expect(result.steps.boom?.status).toBe("failed")
      expect(result.steps.busy?.status).toBe("cancelled")
      // The run waited for the child's group to be gone: nothing to poll for.
      expect(pid).toBeGreaterThan(0)
      expect(groupAlive(pid)).toBe(false)
      // SIGTERM ended it: the run did not sit out the 2 s grace before SIGKILL.
      const failedAt = events.find((e) => e.type === "step:end" && e.step === "boom")!.time
      const endedAt = events.find((e) => e.type === "run:end")!.time
      expect(endedAt - failedAt).toBeLessThan(1800)
    } finally {
      if (pid > 0 && groupAlive(pid)) process.kill(-pid, "SIGKILL")
    }
  })

  it("gives the child only the declared environment, and masks its secrets in what it reports", async () => {
    await withEnv({ WEFT_ISO_SECRET: "hunter22", WEFT_ISO_HIDDEN: "undeclared" }, async () => {
      const { events } = await runFile(`
        .step("env", { permissions: { isolate: true, env: [secret("WEFT_ISO_SECRET")] } }, (_, ctx) => {
          console.log(process.env.WEFT_ISO_SECRET, ctx.env.WEFT_ISO_SECRET, String(process.env.WEFT_ISO_HIDDEN))
        })`)
      expect(logsOf(events, "env")).toEqual(["*** *** undefined"])
    })
  })

  it("the child's process.env is exactly the step's environment: the declared names and the base, nothing of weft's", async () => {
    await withEnv({ WEFT_ISO_DECLARED: "declared", WEFT_ISO_HIDDEN: "undeclared" }, async () => {
      const { result } = await runFile(`
        .step("env", { permissions: { isolate: true, env: ["WEFT_ISO_DECLARED"] } }, () => ({ ...process.env }))`)
      const expected: Record<string, string> = {}
      for (const name of [...baseEnvNames, "WEFT_ISO_DECLARED"]) if (process.env[name] !== undefined) expected[name] = process.env[name]
      expect(result.outputs.env).toEqual(expected)
      expect(expected.WEFT_ISO_DECLARED).toBe("declared")
    })
  })

  it("under allowAll the child sees the whole environment, yet NODE_OPTIONS cannot lift its permissions", async () => {
    // NODE_OPTIONS: were it applied when the child boots, it would let it write anywhere.
    await withEnv({ WEFT_ISO_HIDDEN: "undeclared", NODE_OPTIONS: "--allow-fs-write=*" }, async () => {
      const { dir, result } = await runFile(`
        .step("env", { permissions: { isolate: true } }, () => {
          let wrote = true
          try {
            writeFileSync("elsewhere.txt", "no")
          } catch {
            wrote = false
          }
          return { env: { ...process.env }, wrote }
        })`, {}, { allowAll: true })
      const { env, wrote } = result.outputs.env as { env: Record<string, string>; wrote: boolean }
      const whole = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== undefined))
      expect(env).toEqual(whole)
      expect(env.NODE_OPTIONS).toBe("--allow-fs-write=*")
      expect(env.WEFT_ISO_HIDDEN).toBe("undeclared")
      expect(wrote).toBe(false)
      expect(existsSync(path.join(dir, "elsewhere.txt"))).toBe(false)
    })
  })

  it("needs the workflow to come from a file", async () => {
    const result = await run(workflow("inline").step("s", { permissions: { isolate: true } }, () => 1), { cache: { mode: "off" } })
    expect(result.steps.s?.error).toMatch(/isolate needs the workflow to come from a file/)
  })

  it("checks the options", () => {
    expect(permissionsProblems({ isolate: "yes" })).toEqual(["permissions.isolate must be true or false, not \"yes\""])
    expect(permissionsProblems({ run: true })).toEqual([expect.stringMatching(/^permissions.run only applies to isolated function steps/)])
    expect(permissionsProblems({ isolate: true, run: true, read: ["data/**"] })).toEqual([])
    expect(permissionsProblems({ isolate: true, run: ["git", "/usr/bin/pandoc"] })).toEqual([])
    expect(permissionsProblems({ isolate: true, run: ["git", ""] })).toEqual([`permissions.run must be true, false or a list of programs, like run: ["git"], not ["git",""]`])
    expect(permissionsProblems({ run: ["git"] })).toEqual([expect.stringMatching(/^permissions.run only applies to isolated function steps/)])
  })
})
