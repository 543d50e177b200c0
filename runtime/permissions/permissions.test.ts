/**
 * `permissions.env`: what a step sees of the environment (`ctx.env`, a
 * command's environment), what enters its cache key, `allowAll`, and secrets
 * masked in every event.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest"
import { cmd, sh } from "../../dsl/Command.ts"
import { isDefinitionError } from "../../dsl/DefinitionError.ts"
import { secret } from "../../dsl/Permissions.ts"
import { fromSpec } from "../../dsl/Spec.ts"
import { workflow, type Workflow } from "../../dsl/Workflow.ts"
import type { Event } from "../Event.ts"
import { run, type RunOptions } from "../Run.ts"
import { makeRedactor } from "./redact.ts"
import { baseEnvNames } from "./StepEnv.ts"

const vars = {
  WEFT_P_DECLARED: "declared-value",
  WEFT_P_UNDECLARED: "undeclared-value",
  WEFT_P_SECRET: "s3cr3t-t0ken-value",
  WEFT_P_SHORT: "ab",
  WEFT_P_QUOTED: `pa\\ss"wo'rd-value`,
  WEFT_P_PEM: [
    "-----BEGIN PRIVATE KEY-----",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "bm90LWEtcmVhbC1rZXktanVzdC10ZXN0",
    "ZmFrZS1wZW0tYm9keS0zLWxpbmVzIQ==",
    "-----END PRIVATE KEY-----",
    ""
  ].join("\n")
}

beforeEach(() => {
  Object.assign(process.env, vars)
})
afterEach(() => {
  for (const name of Object.keys(vars)) delete process.env[name]
})

const dirs: Array<string> = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const runAll = async (wf: Workflow<any>, options: RunOptions = {}) => {
  const events: Array<Event> = []
  const result = await run(wf, { cache: { mode: "off" }, ...options, onEvent: (e) => events.push(e) })
  return { result, events }
}

describe("ctx.env", () => {
  it("holds the declared names and the base; reading an undeclared name fails the step, naming the step, the variable and the fix", async () => {
    const seen: Record<string, unknown> = {}
    const wf = workflow("env")
      .step("ok", { permissions: { env: ["WEFT_P_DECLARED"] } }, (_, ctx) => {
        seen.declared = ctx.env.WEFT_P_DECLARED
        seen.keys = Object.keys(ctx.env)
        seen.path = ctx.env.PATH
        seen.home = ctx.env.HOME
        return "ok"
      })
      .step("sneaky", { permissions: { env: ["WEFT_P_DECLARED"] } }, (_, ctx) => ctx.env.WEFT_P_UNDECLARED)
    const { result } = await runAll(wf, { failFast: false })
    expect(result.steps.ok!.status).toBe("succeeded")
    expect(seen.declared).toBe("declared-value")
    expect(seen.path).toBe(process.env.PATH)
    expect(seen.home).toBe(process.env.HOME)
    expect(seen.keys).toContain("WEFT_P_DECLARED")
    expect(seen.keys).not.toContain("WEFT_P_UNDECLARED")
    for (const key of seen.keys as Array<string>) expect([...baseEnvNames, "WEFT_P_DECLARED"]).toContain(key)
    expect(result.steps.sneaky).toMatchObject({ status: "failed" })
    const error = result.steps.sneaky!.error!
    expect(error).toContain(`step "sneaky" read the environment variable WEFT_P_UNDECLARED`)
    expect(error).toContain(`permissions: { env: ["WEFT_P_UNDECLARED"] }`)
    expect(error).toContain("--allow-all")
  })

  it("`in` refuses an undeclared name too; JSON.stringify works and shows only what is allowed; ctx.env is read-only", async () => {
    const wf = workflow("probe")
      .step("json", { permissions: { env: ["WEFT_P_DECLARED"] } }, (_, ctx) => JSON.parse(JSON.stringify(ctx.env)) as Record<string, string>)
      .step("in", (_, ctx) => "WEFT_P_UNDECLARED" in ctx.env)
      .step("write", (_, ctx) => {
        ;(ctx.env as Record<string, string>).PATH = "/nowhere"
      })
    const { result } = await runAll(wf, { failFast: false })
    expect(result.outputs.json).toMatchObject({ WEFT_P_DECLARED: "declared-value" })
    expect(result.outputs.json).not.toHaveProperty("WEFT_P_UNDECLARED")
    expect(result.steps.in!.error).toContain("WEFT_P_UNDECLARED")
    expect(result.steps.write!.error).toContain("ctx.env is read-only")
  })

  it("a step's own permissions replace the workflow's; a step without any gets the workflow's (also through .each)", async () => {
    const wf = workflow("merge", { permissions: { env: ["WEFT_P_DECLARED"] } })
      .step("inherits", (_, ctx) => ctx.env.WEFT_P_DECLARED)
      .step("own", { permissions: { env: ["WEFT_P_UNDECLARED"] } }, (_, ctx) => [ctx.env.WEFT_P_UNDECLARED, Object.keys(ctx.env).includes("WEFT_P_DECLARED")])
      .step("replaced", { permissions: { env: [] } }, (_, ctx) => ctx.env.WEFT_P_DECLARED)
      .each("item", ["x"], { permissions: { env: ["WEFT_P_UNDECLARED"] } }, () => (_: unknown, ctx: { env: Record<string, string | undefined> }) => ctx.env.WEFT_P_UNDECLARED)
    const { result } = await runAll(wf, { failFast: false })
    expect(result.outputs.inherits).toBe("declared-value")
    expect(result.outputs.own).toEqual(["undeclared-value", false])
    expect(result.steps.replaced!.error).toContain(`step "replaced" read the environment variable WEFT_P_DECLARED`)
    expect(result.outputs.item).toEqual(["undeclared-value"])
  })
})

describe("a command's environment", () => {
  it("holds only the declared names and the base; cmd's own env values are kept", async () => {
    const wf = workflow("cmd")
      .step("echo", { permissions: { env: ["WEFT_P_DECLARED"] } }, sh`echo "[$WEFT_P_UNDECLARED-$WEFT_P_DECLARED]"`)
      .step("names", { permissions: { env: ["WEFT_P_DECLARED"] } }, cmd(["node", "-e", "console.log(Object.keys(process.env).join(' '))"]))
      .step("base", sh`echo "$PATH|$HOME"`)
      .step("explicit", cmd(["sh", "-c", "echo \"$WEFT_P_GIVEN\""], { env: { WEFT_P_GIVEN: "given" } }))
    const { result } = await runAll(wf)
    expect(result.status).toBe("succeeded")
    expect(result.outputs.echo!.stdout).toBe("[-declared-value]\n")
    const names = result.outputs.names!.stdout.trim().split(" ")
    expect(names).toContain("WEFT_P_DECLARED")
    expect(names).not.toContain("WEFT_P_UNDECLARED")
    // What the shell or node add themselves (PWD, SHLVL, _) and weft's tree id (no user data: see internal/processTree.ts) aside, nothing else came through.
    for (const name of names) expect([...baseEnvNames, "WEFT_P_DECLARED", "PWD", "SHLVL", "_", "WEFT_PROCESS_TREE"]).toContain(name)
    expect(result.outputs.base!.stdout).toBe(`${process.env.PATH}|${process.env.HOME}\n`)
    expect(result.outputs.explicit!.stdout).toBe("given\n")
  })
})

describe("a spec (JSON, YAML)", () => {
  it("declares permissions as data, a secret as { secret: NAME }, for the workflow and per step", async () => {
    const wf = fromSpec({
      name: "spec",
      permissions: { env: ["WEFT_P_UNDECLARED"] },
      steps: [
        { id: "own", run: `echo "$WEFT_P_DECLARED $WEFT_P_SECRET [$WEFT_P_UNDECLARED]"`, permissions: { env: ["WEFT_P_DECLARED", { secret: "WEFT_P_SECRET" }] } },
        { id: "default", run: `echo "[$WEFT_P_DECLARED] $WEFT_P_UNDECLARED"` }
      ]
    })
    const { result, events } = await runAll(wf)
    expect(result.status).toBe("succeeded")
    const logs = events.flatMap((e) => (e.type === "step:log" ? [`${e.step}: ${e.text}`] : []))
    expect(logs.sort()).toEqual(["default: [] undeclared-value", "own: declared-value *** []"])
  })
})

describe("the cache key", () => {
  it("a declared variable's value is in the key (a change misses), an undeclared one's is not", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "weft-perm-"))
    dirs.push(root)
    let runs = 0
    const wf = workflow("key").step("s", { cache: true, permissions: { env: ["WEFT_P_DECLARED", secret("WEFT_P_SECRET")] } }, () => ++runs)
    const again = async () => (await run(wf, { cwd: root })).steps.s!.status
    expect(await again()).toBe("succeeded")
    expect(await again()).toBe("cached")
    process.env.WEFT_P_UNDECLARED = "changed"
    expect(await again()).toBe("cached")
    process.env.WEFT_P_DECLARED = "changed"
    expect(await again()).toBe("succeeded")
    expect(await again()).toBe("cached")
    process.env.WEFT_P_SECRET = "another-secret-value"
    expect(await again()).toBe("succeeded")
    expect(runs).toBe(3)
  })
})

describe("allowAll", () => {
  it("gives every step the whole environment, refuses nothing, and says so in a run:warning", async () => {
    const wf = workflow("all")
      .step("fn", (_, ctx) => ctx.env.WEFT_P_UNDECLARED)
      .step("sh", sh`echo "$WEFT_P_UNDECLARED"`)
    const { result, events } = await runAll(wf, { allowAll: true })
    expect(result.status).toBe("succeeded")
    expect(result.outputs.fn).toBe("undeclared-value")
    expect(result.outputs.sh!.stdout).toBe("undeclared-value\n")
    const warnings = events.flatMap((e) => (e.type === "run:warning" ? [e.message] : []))
    expect(warnings).toEqual([expect.stringContaining("permissions are off (--allow-all)")])
    const plain = await runAll(wf)
    expect(plain.events.some((e) => e.type === "run:warning")).toBe(false)
  })
})

describe("secrets", () => {
  const value = vars.WEFT_P_SECRET

  it("never appear in an event: console, ctx.log, ctx.emit, progress, command stdout and stderr, retries and errors show *** instead", async () => {
    const permissions = { env: [secret("WEFT_P_SECRET")] }
    let attempt = 0
    const wf = workflow("leak", { permissions })
      .step("fn", { retry: { times: 1, delay: 0 } }, async (_, ctx) => {
        const token = ctx.env.WEFT_P_SECRET!
        console.log(`console ${token}`)
        console.error(`stderr ${token}`)
        ctx.log("ctx.log", token)
        ctx.emit(`part ${token}`)
        ctx.emit({ nested: token })
        ctx.progress(1, 2, `progress ${token}`)
        // Two lines: the retry event carries the whole error as its reason too.
        if (++attempt === 1) throw new Error(`first attempt saw ${token}\nand again ${token}`)
        return "done"
      })
      .step("cmd", { retry: 0 }, sh`echo "out $WEFT_P_SECRET"; echo "err $WEFT_P_SECRET" >&2`)
      .step("fails", { optional: true }, sh`echo "dying with $WEFT_P_SECRET" >&2; exit 3`)
      .step("throws", { optional: true }, (_, ctx) => {
        throw new Error(`cannot use ${ctx.env.WEFT_P_SECRET}`)
      })
    const { result, events } = await runAll(wf)
    expect(result.steps.fn!.status).toBe("succeeded")
    const text = JSON.stringify(events)
    expect(text).not.toContain(value)
    expect(JSON.stringify(result.steps)).not.toContain(value)
    const shown = (type: Event["type"]) => events.filter((e) => e.type === type).map((e) => JSON.stringify(e)).join("\n")
    expect(shown("step:log")).toContain("console ***")
    expect(shown("step:log")).toContain("stderr ***")
    expect(shown("step:log")).toContain("ctx.log ***")
    expect(shown("step:log")).toContain("out ***")
    expect(shown("step:log")).toContain("err ***")
    expect(shown("step:partial")).toContain("part ***")
    expect(shown("step:partial")).toContain("nested: '***'")
    expect(shown("step:progress")).toContain("progress ***")
    expect(shown("step:retry")).toContain("first attempt saw ***")
    expect(shown("step:retry")).toContain("and again ***")
    expect(result.steps.fails!.error).toContain("dying with ***")
    expect(result.steps.throws!.error).toBe("cannot use ***")
  })

  it("a multi-line secret (a PEM key) is masked line by line: no line of it appears in any log line, part, progress or error", async () => {
    const pem = vars.WEFT_P_PEM
    const lines = pem.split("\n").filter((line) => line !== "")
    const wf = workflow("pem", { permissions: { env: [secret("WEFT_P_PEM")] } })
      .step("fn", (_, ctx) => {
        const key = ctx.env.WEFT_P_PEM!
        console.log(key)
        ctx.log(`second line: ${key.split("\n")[1]}`)
        ctx.emit({ key })
        ctx.progress(1, 2, key.split("\n")[2])
        return "done"
      })
      .step("cmd", sh`printf '%s\n' "$WEFT_P_PEM"; printf '%s' "$WEFT_P_PEM" >&2`)
      .step("throws", { optional: true }, (_, ctx) => {
        throw new Error(`bad key:\n${ctx.env.WEFT_P_PEM}`)
      })
    const { result, events } = await runAll(wf)
    expect(result.steps.fn!.status).toBe("succeeded")
    expect(result.steps.cmd!.status).toBe("succeeded")
    const logs = events.flatMap((e) => (e.type === "step:log" ? [`${e.step}: ${e.text}`] : []))
    // Each line of the key was a log line of its own, and each is masked.
    expect(logs.filter((line) => line === "fn: ***").length).toBe(lines.length)
    expect(logs.filter((line) => line === "cmd: ***").length).toBe(lines.length * 2)
    expect(logs).toContain("fn: second line: ***")
    const text = JSON.stringify(events) + JSON.stringify(result.steps)
    for (const line of lines) expect(text).not.toContain(line)
    expect(result.steps.throws!.error).toBe("bad key:\n***")
  })

  it("encoded as programs print credentials: base64 (whole, unpadded, url-safe, inside a Basic header) and URL-encoded", async () => {
    const token = "p@ss/w0rd+long-enough?"
    Object.assign(process.env, { WEFT_P_ENCODED: token })
    try {
      const wf = workflow("encoded").step("s", { permissions: { env: [secret("WEFT_P_ENCODED")] } }, (_, ctx) => {
        const t = ctx.env.WEFT_P_ENCODED!
        ctx.log(`b64 ${Buffer.from(t).toString("base64")}`)
        ctx.log(`b64url ${Buffer.from(t).toString("base64url")}`)
        for (const user of ["a", "ab", "abc"]) ctx.log(`Authorization: Basic ${Buffer.from(`${user}:${t}`).toString("base64")}`)
        ctx.log(`https://x.test/?token=${encodeURIComponent(t)}`)
      })
      const { events } = await runAll(wf)
      const logs = events.flatMap((e) => (e.type === "step:log" ? [e.text] : []))
      expect(logs[0]).toBe("b64 ***")
      expect(logs[1]).toBe("b64url ***")
      expect(logs[5]).toBe("https://x.test/?token=***")
      const text = JSON.stringify(events)
      for (const form of [token, encodeURIComponent(token), Buffer.from(token).toString("base64"), Buffer.from(token).toString("base64url")]) {
        expect(text).not.toContain(form)
      }
      // In a Basic header the secret's encoding depends on where it starts: the groups wholly inside it are masked whatever the offset.
      for (const line of logs.slice(2, 5)) expect(line).toMatch(/^Authorization: Basic [A-Za-z0-9+/]{0,8}\*\*\*[A-Za-z0-9+/=]{0,4}$/)
    } finally {
      delete process.env.WEFT_P_ENCODED
    }
  })

  it("not covered, as documented: hex and the value reversed show as they are", () => {
    const secret = "s3cr3t-t0ken-value"
    const redact = makeRedactor([secret])
    const hex = Buffer.from(secret).toString("hex")
    const reversed = [...secret].reverse().join("")
    expect(redact(`hex ${hex}`)).toBe(`hex ${hex}`)
    expect(redact(`reversed ${reversed}`)).toBe(`reversed ${reversed}`)
  })

  it("a secret with a quote is masked as a shell quotes it: a script's set -x trace echoes it back that way", () => {
    const redact = makeRedactor(["ab'cd-value"])
    expect(redact(`+ echo 'ab'\\''cd-value' done`)).toBe("+ echo '***' done")
  })

  it("a line of a multi-line secret shorter than 4 characters is not masked on its own, nor an empty one", () => {
    const redact = makeRedactor(["first-line-of-it\n  }\n\n  indented-line  \r\nlast"])
    expect(redact("x first-line-of-it\n  }\n\n  indented-line  \r\nlast y")).toBe("x *** y")
    expect(redact("a } b")).toBe("a } b")
    expect(redact("an empty line\n\nbetween")).toBe("an empty line\n\nbetween")
    expect(redact("got: first-line-of-it")).toBe("got: ***")
    expect(redact("  indented-line  ")).toBe("  ***  ")
    expect(redact("the last line")).toBe("the *** line")
  })

  it("a secret with quotes and a backslash is masked where it is escaped: JSON.stringify, console.log and ctx.emit of an object", async () => {
    const wf = workflow("quoted", { permissions: { env: [secret("WEFT_P_QUOTED")] } }).step("fn", (_, ctx) => {
      const token = ctx.env.WEFT_P_QUOTED!
      console.log(JSON.stringify({ token }))
      console.log({ token })
      ctx.emit({ token })
      return "done"
    })
    const { result, events } = await runAll(wf)
    expect(result.steps.fn!.status).toBe("succeeded")
    const logs = events.flatMap((e) => (e.type === "step:log" ? [e.text] : []))
    expect(logs).toEqual([`{"token":"***"}`, "{ token: `***` }"])
    expect(events.flatMap((e) => (e.type === "step:partial" ? [e.text] : []))).toEqual(["{ token: `***` }"])
    // Every form of it (raw, JSON-escaped, inspected) holds its tail.
    expect(JSON.stringify(events)).not.toContain("wo'rd-value")
  })

  it("a secret a command writes in two chunks, with a pause between, is masked: lines are assembled before masking", async () => {
    const wf = workflow("chunks", { permissions: { env: [secret("WEFT_P_SECRET")] } }).step(
      "cmd",
      sh`v="$WEFT_P_SECRET"; printf 'before %s' "$(printf '%s' "$v" | cut -c1-7)"; sleep 0.3; printf '%s after\n' "$(printf '%s' "$v" | cut -c8-)"`
    )
    const { result, events } = await runAll(wf)
    expect(result.steps.cmd!.status).toBe("succeeded")
    // The output value keeps what the command printed (it is data for dependents and the cache).
    expect(result.outputs.cmd!.stdout).toBe(`before ${value} after\n`)
    const logs = events.flatMap((e) => (e.type === "step:log" ? [e.text] : []))
    expect(logs).toEqual(["before *** after"])
    expect(JSON.stringify(events)).not.toContain(value.slice(0, 7))
  })

  it("a step that does not declare a secret but is handed it by another step cannot show it either", async () => {
    const wf = workflow("handed")
      .step("token", { permissions: { env: [secret("WEFT_P_SECRET")] } }, (_, ctx) => ctx.env.WEFT_P_SECRET!)
      .step("leak", { needs: ["token"] }, ({ token }, ctx) => {
        ctx.log(`got ${token}`)
        console.error(token)
        ctx.progress(1, 2, token)
        throw new Error(`bad token ${token}`)
      })
    const { result, events } = await runAll(wf)
    expect(result.steps.leak!.status).toBe("failed")
    expect(result.steps.leak!.error).toContain("bad token ***")
    const logs = events.flatMap((e) => (e.type === "step:log" ? [e.text] : []))
    expect(logs).toEqual(["got ***", "***"])
    expect(JSON.stringify(events) + JSON.stringify(result.steps)).not.toContain(value)
  })

  it("shorter than 4 characters: the step fails before running, naming the variable but not the value", async () => {
    let ran = false
    const wf = workflow("short").step("s", { permissions: { env: [secret("WEFT_P_SHORT")] } }, () => {
      ran = true
    })
    const { result } = await runAll(wf)
    expect(ran).toBe(false)
    expect(result.steps.s!.error).toMatch(/^step "s": secret WEFT_P_SHORT is shorter than 4 characters/)
    expect(result.steps.s!.error).not.toContain(`"${vars.WEFT_P_SHORT}"`)
  })
})

describe("definition errors", () => {
  it("reports every bad permissions option at once, naming the step", async () => {
    const wf = workflow("bad", { permissions: { env: "HOME" } as never })
      .step("a", { permissions: { env: ["OK", 3, "", "has space"] } as never }, () => 1)
      .step("b", { permissions: { reed: ["src"] } as never }, () => 1)
      .step("d", { permissions: { read: "src/**", write: ["dist/**", "", 7] } as never }, () => 1)
      .step("e", { permissions: { read: ["src/**"], write: ["dist/**"] } }, () => 1)
      .step("c", { permissions: "all" as never }, () => 1)
    const error = await run(wf).catch((e: unknown) => e)
    expect(isDefinitionError(error)).toBe(true)
    const message = (error as Error).message
    expect(message).toContain(`permissions.env must be a list of variable names, like env: ["API_URL", secret("API_TOKEN")], not "HOME"`)
    expect(message).toContain(`step "a": permissions.env lists 3: each entry must be a variable name`)
    expect(message).toContain(`step "a": permissions.env lists "":`)
    expect(message).toContain(`step "a": permissions.env lists "has space":`)
    expect(message).toContain(`step "b": unknown permissions option "reed": the options are env, read, write`)
    expect(message).toContain(`Did you mean "read"?`)
    expect(message).toContain(`step "d": permissions.read must be a list of globs relative to the workflow's folder, like read: ["src/**"], not "src/**"`)
    expect(message).toContain(`step "d": permissions.write lists "": each entry must be a non-empty glob relative to the workflow's folder, like write: ["dist/**"]`)
    expect(message).toContain(`step "d": permissions.write lists 7:`)
    expect(message).not.toContain(`"dist/**":`)
    expect(message).not.toContain(`step "e"`)
    expect(message).toContain(`step "c": permissions must be an object like`)
    expect(message).not.toContain(`lists "OK"`)
  })
})
