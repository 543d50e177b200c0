/**
 * Secrets in a step's return value, through the real `weft` command. weft
 * never shows a step's output value: events, reporters, log files, the trace,
 * the history and `weft report` carry statuses, logs and parts, never values.
 * So a step that returns a secret (whole, inside an object, or as a command's
 * captured stdout) leaves no trace of it in anything weft prints or writes for
 * people. The cache and the journal do keep it: they replay the value to the
 * step's dependents, so it must be the real one.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { afterAll, describe, it } from "vitest"
import { eventsOf, removeTempDirs, repoRoot, tempDir, weft, type WeftResult } from "../../test/fixtures/cli/harness.ts"

afterAll(removeTempDirs)

const dslIndex = path.join(repoRoot, "dsl/index.ts")
const value = "ret-5c81e2-returned-secret"
const pem = ["-----BEGIN PRIVATE KEY-----", "cmV0dXJuZWQtcGVtLWxpbmUtb25lLXh4", "cmV0dXJuZWQtcGVtLWxpbmUtdHdvLXl5", "-----END PRIVATE KEY-----", ""].join("\n")
/** Every piece of a secret that must not be shown: the token, and each line of the key. */
const pieces = [value, ...pem.split("\n").filter((line) => line !== "")]
const shown = (r: WeftResult) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`

/** Every file under `dir`, recursively. */
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name)
    return statSync(file).isDirectory() ? filesUnder(file) : [file]
  })

/** Kept to be replayed (the cache entries and the run journals): the value as returned. */
const isCacheEntry = (file: string) => file.split(path.sep).includes("cache")
const isJournal = (file: string) => path.basename(file) === "journal.ndjson"
const isReplayStore = (file: string) => isCacheEntry(file) || isJournal(file)

/** A journal's recorded values, decoded (they are stored base64). */
const journaledValues = (file: string): string =>
  readFileSync(file, "utf8").split("\n").flatMap((line) => {
    const record = line === "" ? undefined : (JSON.parse(line) as { value?: string })
    return record?.value === undefined ? [] : [Buffer.from(record.value, "base64").toString("utf8")]
  }).join("\n")

const returning = (dir: string) =>
  writeFileSync(path.join(dir, "weft.ts"), [
    `import { secret, sh, workflow } from ${JSON.stringify(dslIndex)}`,
    `export default workflow("returns", { permissions: { env: [secret("WEFT_S_TOKEN"), secret("WEFT_S_PEM")] } })`,
    `  .step("token", { cache: true }, (_, ctx) => ctx.env.WEFT_S_TOKEN)`,
    `  .step("object", (_, ctx) => ({ auth: { token: ctx.env.WEFT_S_TOKEN, key: ctx.env.WEFT_S_PEM }, list: [ctx.env.WEFT_S_TOKEN] }))`,
    `  .step("cmd", { cache: true }, sh\`printf '%s\\n%s' "$WEFT_S_TOKEN" "$WEFT_S_PEM"\`)`,
    `  .step("uses", { needs: ["token", "object"] }, ({ token, object }) => [token, object.auth.key].join(" "))`,
    ""
  ].join("\n"))

const env = { WEFT_S_TOKEN: value, WEFT_S_PEM: pem }

describe("a step returning a secret", () => {
  it("leaves no trace of it in the events, the terminal, the log files, the trace, the history or the report; only the cache and journal keep it", async ({ expect }) => {
    const dir = tempDir("weft-secret-")
    returning(dir)
    const r = await weft(["run", "--reporter", "json", "--trace", "trace.json"], { cwd: dir, env })
    expect(r.code, shown(r)).toBe(0)
    const events = eventsOf(r.stdout)
    expect(events.filter((e) => e.type === "step:end").map((e) => e.step).sort()).toEqual(["cmd", "object", "token", "uses"])
    // The command printed both: its log lines are masked, its output value (stdout) is not shown.
    expect(events.filter((e) => e.type === "step:log" && e.step === "cmd").map((e) => (e as { text: string }).text)).toEqual(["***", "***", "***", "***", "***"])
    // Again with the plain reporter: two steps answered by the cache, two run.
    const plain = await weft(["run", "--reporter", "plain"], { cwd: dir, env })
    expect(plain.code, shown(plain)).toBe(0)
    expect(plain.stdout).toContain("cached")
    const report = await weft(["report"], { cwd: dir, env })
    const reportJson = await weft(["report", "--json"], { cwd: dir, env })
    const history = await weft(["history", "--json"], { cwd: dir, env })
    const historyText = await weft(["history"], { cwd: dir, env })
    for (const out of [report, reportJson, history, historyText]) expect(out.code, shown(out)).toBe(0)
    for (const out of [r, plain, report, reportJson, history, historyText]) {
      for (const piece of pieces) expect(out.stdout + out.stderr, shown(out)).not.toContain(piece)
    }
    const files = filesUnder(path.join(dir, ".weft"))
    const shownFiles = [path.join(dir, "trace.json"), ...files.filter((file) => !isReplayStore(file))]
    expect(shownFiles.some((file) => file.includes(`${path.sep}logs${path.sep}`))).toBe(true)
    expect(shownFiles.some((file) => file.includes(`${path.sep}history${path.sep}`))).toBe(true)
    for (const file of shownFiles) {
      const text = readFileSync(file, "utf8")
      for (const piece of pieces) expect(text.includes(piece), `${file} holds ${piece}`).toBe(false)
    }
    // The exception, on purpose: a replay hands dependents the value returned, so the stores hold it.
    expect(files.filter(isCacheEntry).some((file) => readFileSync(file, "utf8").includes(value)), files.join("\n")).toBe(true)
    expect(files.filter(isJournal).some((file) => journaledValues(file).includes(value)), files.join("\n")).toBe(true)
  })
})
