/**
 * A secret made of every character that quoting and escaping change (a single
 * and a double quote, a backslash, a dollar, a space, a backtick, letters
 * outside ASCII), used by a workflow every way a step can show it: in `sh`
 * and `cmd` commands that fail (their display is in the error), `console`,
 * direct writes to `process.stdout` / `process.stderr` (whole, in pieces,
 * as bytes), a thrown error, `ctx.emit`, its URL and base64 encodings, and a
 * returned value. Then every output of the runs, through the real `weft`
 * command, is searched for the secret in every form weft itself could write
 * it: raw, shell-quoted, JSON-escaped (once and twice: a JSON file holding
 * an error that holds JSON), inspected, URL-encoded and base64. The cache
 * and the journal are left out on purpose (they replay the real value; see
 * secrets.test.ts).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { inspect } from "node:util"
import * as path from "node:path"
import { afterAll, afterEach, describe, it } from "vitest"
import { eventsOf, removeTempDirs, repoRoot, tempDir, weft, type WeftResult } from "../../test/fixtures/cli/harness.ts"
import { inTerminal, killLaunched } from "../../test/fixtures/terminal.ts"

afterAll(removeTempDirs)
afterEach(killLaunched)

const dslIndex = path.join(repoRoot, "dsl/index.ts")
/** `XQZSECRET` is in every form that keeps ASCII letters as they are, so a form cut short still shows. */
const token = `q'uo"te\\back$HOME sp\`ace-é-Ω-XQZSECRET-123456`
const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/** Every form of `token` that weft's own quoting, escaping and encoding could write, by name. */
const forms = (): Record<string, string> => {
  const json = JSON.stringify(token).slice(1, -1)
  const base64 = Buffer.from(token).toString("base64")
  return {
    raw: token,
    "shell single-quoted": token.replaceAll("'", `'\\''`),
    "JSON-escaped": json,
    "JSON-escaped twice": JSON.stringify(json).slice(1, -1),
    inspected: inspect(token).slice(1, -1),
    "URL-encoded": encodeURIComponent(token),
    base64,
    "base64 unpadded": base64.replace(/=+$/, ""),
    base64url: base64.replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_"),
    "a piece": "XQZSECRET"
  }
}

/** The names of the forms of the secret `text` holds. */
const leaks = (text: string): Array<string> => Object.entries(forms()).flatMap(([name, form]) => (text.includes(form) ? [name] : []))

const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name)
    return statSync(file).isDirectory() ? filesUnder(file) : [file]
  })
const isReplayStore = (file: string) => file.split(path.sep).includes("cache") || path.basename(file) === "journal.ndjson"

const workflow = (dir: string) =>
  writeFileSync(path.join(dir, "weft.ts"), [
    `import { cmd, secret, sh, workflow } from ${JSON.stringify(dslIndex)}`,
    `export default workflow("scan", { permissions: { env: [secret("WEFT_SCAN_TOKEN")] } })`,
    `  .step("shFails", (_, ctx) => sh\`echo ${"${ctx.env.WEFT_SCAN_TOKEN}"} > /dev/null; exit 1\`)`,
    `  .step("cmdFails", (_, ctx) => cmd(["sh", "-c", "exit 3", ctx.env.WEFT_SCAN_TOKEN]))`,
    `  .step("cmdArray", (_, ctx) => sh\`false ${"${[ctx.env.WEFT_SCAN_TOKEN, 'x']}"}\`)`,
    `  .step("logs", (_, ctx) => {`,
    `    const token = ctx.env.WEFT_SCAN_TOKEN`,
    `    console.log(token); console.error("err", token); console.log({ token }); console.log(JSON.stringify({ token }))`,
    `    console.log(encodeURIComponent(token), Buffer.from(token).toString("base64"))`,
    `    ctx.log("ctx", token); ctx.emit({ token })`,
    `    return "logged"`,
    `  })`,
    `  .step("direct", async (_, ctx) => {`,
    `    const token = ctx.env.WEFT_SCAN_TOKEN`,
    `    process.stdout.write("direct " + token + "\\n")`,
    `    process.stdout.write("half " + token.slice(0, 9)); await new Promise((r) => setTimeout(r, 5)); process.stdout.write(token.slice(9) + " end\\n")`,
    `    process.stderr.write(Buffer.from("bytes " + token + "\\n"))`,
    `    process.stdout.write(JSON.stringify({ token }) + "\\n")`,
    `    process.stdout.write("no newline at the end " + token)`,
    `    return "wrote"`,
    `  })`,
    `  .step("throws", (_, ctx) => { throw new Error("bad " + ctx.env.WEFT_SCAN_TOKEN) })`,
    `  .step("returns", (_, ctx) => ({ token: ctx.env.WEFT_SCAN_TOKEN }))`,
    ""
  ].join("\n"))

const env = { WEFT_SCAN_TOKEN: token }

/** Only the failing commands. */
const commands = (dir: string) =>
  writeFileSync(path.join(dir, "weft.ts"), [
    `import { cmd, secret, sh, workflow } from ${JSON.stringify(dslIndex)}`,
    `export default workflow("commands", { permissions: { env: [secret("WEFT_SCAN_TOKEN")] } })`,
    `  .step("shFails", (_, ctx) => sh\`echo ${"${ctx.env.WEFT_SCAN_TOKEN}"} > /dev/null; exit 1\`)`,
    `  .step("cmdFails", (_, ctx) => cmd(["sh", "-c", "exit 3", ctx.env.WEFT_SCAN_TOKEN]))`,
    // Read when the workflow loads: in the graph before anything runs.
    `  .step("static", cmd(["true", process.env.WEFT_SCAN_TOKEN ?? ""]))`,
    ""
  ].join("\n"))

describe("a failing command given a secret with a quote", () => {
  it("is shown in its error with the secret masked before it was quoted: in the events, the history, the report and the graph", async ({ expect }) => {
    const dir = tempDir("weft-scan-")
    commands(dir)
    const r = await weft(["run", "--reporter", "json", "--continue"], { cwd: dir, env })
    expect(r.code, shown(r)).toBe(1)
    const errors = Object.fromEntries(eventsOf(r.stdout).flatMap((e) => (e.type === "step:end" ? [[e.step, e.error]] : [])))
    expect(errors.shFails, shown(r)).toMatch(/^command "echo '\*\*\*' > \/dev\/null; exit 1" exited with code 1/)
    expect(errors.cmdFails, shown(r)).toMatch(/^command "sh -c 'exit 3' '\*\*\*'" exited with code 3/)
    const report = await weft(["report", "--json"], { cwd: dir, env })
    const history = readFileSync(filesUnder(path.join(dir, ".weft/history")).find((file) => file.endsWith(".json"))!, "utf8")
    const graph = await weft(["graph"], { cwd: dir, env })
    expect(graph.stdout, shown(graph)).toContain("$ true '***'")
    for (const text of [r.stdout, r.stderr, report.stdout, history, graph.stdout, graph.stderr]) expect(leaks(text), text).toEqual([])
  })
})
const failing = ["cmdArray", "cmdFails", "shFails", "throws"]

describe("a secret with quotes, backslash, dollar, space and non-ASCII letters", () => {
  it("is in no form in anything a run prints or writes for people: events, plain, stderr, the trace, log files, history, report, the dashboard", async ({ expect }) => {
    const dir = tempDir("weft-scan-")
    workflow(dir)
    const outputs: Array<[string, string]> = []
    const run = async (args: ReadonlyArray<string>) => {
      const r = await weft(args, { cwd: dir, env })
      outputs.push([`weft ${args.join(" ")}: stdout`, r.stdout], [`weft ${args.join(" ")}: stderr`, r.stderr])
      return r
    }

    const json = await run(["run", "--reporter", "json", "--continue", "--trace", "trace.json"])
    expect(json.code, shown(json)).toBe(1)
    // Only events on stdout: every line parses, and the steps' own writes are their log lines.
    const events = eventsOf(json.stdout)
    const ends = events.filter((e) => e.type === "step:end")
    expect(ends.filter((e) => e.status === "failed").map((e) => e.step).sort(), shown(json)).toEqual(failing)
    const logs = (step: string) => events.filter((e) => e.type === "step:log" && e.step === step).map((e) => (e as { stream: string; text: string }))
    expect(logs("direct"), shown(json)).toEqual([
      { stream: "stdout", text: "direct ***" },
      { stream: "stdout", text: "half *** end" },
      { stream: "stderr", text: "bytes ***" },
      { stream: "stdout", text: `{"token":"***"}` },
      { stream: "stdout", text: "no newline at the end ***" }
    ].map((line) => expect.objectContaining(line)))
    const errors = Object.fromEntries(ends.map((e) => [e.step, (e as { error?: string }).error]))
    // Still says which command failed, with the secret masked before it was quoted.
    expect(errors.shFails).toMatch(/^command "echo '\*\*\*' > \/dev\/null; exit 1" exited with code 1/)
    expect(errors.cmdFails).toMatch(/^command "sh -c 'exit 3' '\*\*\*'" exited with code 3/)
    expect(errors.cmdArray).toMatch(/^command "false '\*\*\*' x" exited with code 1/)

    const plain = await run(["run", "--reporter", "plain", "--continue", "--no-cache"])
    expect(plain.code, shown(plain)).toBe(1)
    expect(plain.stdout).toContain("direct ***")
    for (const args of [["report"], ["report", "--json"], ["history"], ["history", "--json"]]) {
      const r = await run(args)
      expect(r.code, shown(r)).toBe(0)
    }

    // The dashboard, in a terminal: every frame it drew.
    const tui = inTerminal(["run", "--reporter", "tui", "--continue", "--no-cache"], dir, env)
    expect(await tui.exited, tui.output()).toBe(1)
    expect(tui.output()).toMatch(/scan failed/)
    // The steps' writes are their log lines there too, masked.
    expect(tui.output()).toContain("no newline at the end ***")
    expect(tui.output()).toContain(`command "false '***' x" exited with code 1`)
    outputs.push(["the dashboard's frames", tui.output()])

    const files = filesUnder(path.join(dir, ".weft"))
    expect(files.some((file) => file.includes(`${path.sep}logs${path.sep}`)), files.join("\n")).toBe(true)
    expect(files.some((file) => file.includes(`${path.sep}history${path.sep}`)), files.join("\n")).toBe(true)
    for (const file of [path.join(dir, "trace.json"), ...files.filter((file) => !isReplayStore(file))]) {
      outputs.push([path.relative(dir, file), readFileSync(file, "utf8")])
    }
    const found = outputs.flatMap(([where, text]) => leaks(text).map((form) => `${where}: ${form}`))
    expect(found, outputs.map(([where, text]) => `=== ${where}\n${text}`).join("\n")).toEqual([])
  })
})
