/**
 * A hostile isolated step speaks weft's protocol wrongly on purpose: every
 * message is decoded, and one that does not decode fails that step (its
 * process ended) while the run goes on.
 */
import { afterAll, describe, expect, it } from "vitest"
import { removeRunDirs, runFile } from "../../test/fixtures/isolate/runFile.ts"

afterAll(removeRunDirs)

const hostile: Record<string, string> = {
  nullReport: `{ type: "report", report: null }`,
  wrongKind: `{ type: "report", report: { type: "step:end", status: "succeeded", value: 1 } }`,
  objectText: `{ type: "report", report: { type: "step:log", stream: "stdout", text: { evil: true } } }`,
  infiniteProgress: `{ type: "report", report: { type: "step:progress", done: Infinity } }`,
  nanProgress: `{ type: "report", report: { type: "step:progress", done: 1, total: NaN } }`,
  negativePart: `{ type: "report", report: { type: "step:partial", index: -1, text: "x" } }`,
  unknownType: `{ type: "takeover" }`,
  notAnObject: `42`,
  denialWithoutFields: `{ type: "denied" }`,
  spawnWithoutList: `{ type: "spawn", id: 0, request: { file: "/bin/sh", args: [] } }`
}

describe("messages from an isolated step", () => {
  it("a malformed message fails its step with a clear error; the others and the run go on", async () => {
    const steps = Object.entries(hostile).map(([id, message]) => `
      .step(${JSON.stringify(id)}, { permissions: { isolate: true } }, () => {
        process.send(${message})
        return new Promise((resolve) => setTimeout(resolve, 20000))
      })`).join("")
    const { result, events } = await runFile(`${steps}
      .step("honest", { permissions: { isolate: true } }, (_, ctx) => {
        ctx.progress(1, 2, "half")
        console.log("fine")
        return 1
      })`)
    for (const id of Object.keys(hostile)) {
      expect(result.steps[id]?.status, id).toBe("failed")
      expect(result.steps[id]?.error, id).toMatch(new RegExp(`^step "${id}": its isolated process sent weft a malformed message \\(.+\\); the step is failed and its process ended$`))
    }
    expect(result.steps.objectText?.error).toContain(`Expected string`)
    expect(result.steps.infiniteProgress?.error).toContain(`Expected a finite number`)
    expect(result.steps.spawnWithoutList?.error).toContain("permissions.run lists none")
    expect(result.outputs.honest).toBe(1)
    for (const event of events) if (event.type === "step:log") expect(typeof event.text).toBe("string")
    expect(events.some((e) => e.type === "step:progress" && e.step === "honest" && e.done === 1 && e.total === 2)).toBe(true)
  }, 60_000)
})
