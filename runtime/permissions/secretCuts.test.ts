/**
 * Secrets where weft cuts a text to bound it: a command's line over 64 KiB
 * arrives in pieces, a streamed part over 64 K characters is trimmed. Each
 * piece is masked on its own, so a cut inside a secret would show its first
 * characters in one piece and the rest in the next: the cut moves back to
 * where the secret starts instead.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { cmd } from "../../dsl/Command.ts"
import { secret } from "../../dsl/Permissions.ts"
import { workflow } from "../../dsl/Workflow.ts"
import type { Event } from "../Event.ts"
import { makeLineSplitter, maxLineBytes } from "../internal/lineSplitter.ts"
import { maxPartChars, partText } from "../internal/partText.ts"
import { run } from "../Run.ts"
import { makeRedactor, mask } from "./redact.ts"

const value = "s3cr3t-t0ken-value"
const name = "WEFT_CUT_SECRET"

beforeEach(() => {
  process.env[name] = value
})
afterEach(() => {
  delete process.env[name]
})

/** Every run of 4 characters of the secret: none may appear anywhere, whole or cut. */
const fragments = Array.from({ length: value.length - 3 }, (_, i) => value.slice(i, i + 4))
const leaked = (text: string) => fragments.filter((fragment) => text.includes(fragment))

const runAll = async (wf: Parameters<typeof run>[0]) => {
  const events: Array<Event> = []
  const result = await run(wf, { cache: { mode: "off" }, onEvent: (e) => events.push(e) })
  return { result, events }
}

/** A line of `length` dots with the secret written at each of `at` (bytes, ASCII). */
const lineWith = (length: number, at: ReadonlyArray<number>) => {
  const line = Buffer.alloc(length, ".")
  for (const position of at) line.write(value, position)
  return line.toString("latin1")
}

describe("a secret across a cut", () => {
  // Across the first cut, the second (the pieces as they are without a secret
  // before), both, and the second as it falls once the first has moved back.
  const cases: ReadonlyArray<{ readonly at: ReadonlyArray<number> }> = [
    { at: [maxLineBytes - 9] },
    { at: [2 * maxLineBytes - 5] },
    { at: [maxLineBytes - 9, 2 * maxLineBytes - 5] },
    { at: [maxLineBytes - 9, 2 * maxLineBytes - 9 - 4] },
    { at: [maxLineBytes - 1, 3 * maxLineBytes - value.length + 1] }
  ]

  it.each(cases)("a command printing one 200 KiB line with the secret at bytes $at shows it nowhere, not even in part, and the rest of the line intact", async ({ at }) => {
    const script = `const b = Buffer.alloc(200 * 1024, "."); for (const p of ${JSON.stringify(at)}) b.write(process.env.${name}, p); process.stdout.write(b); process.stdout.write("\\n")`
    const wf = workflow("long-line", { permissions: { env: [secret(name)] } })
      .step("print", cmd([process.execPath, "-e", script]))
    const { result, events } = await runAll(wf)
    expect(result.status).toBe("succeeded")
    expect(leaked(JSON.stringify(events))).toEqual([])
    const pieces = events.flatMap((e) => (e.type === "step:log" ? [e.text] : []))
    expect(pieces.length).toBeGreaterThan(3)
    expect(pieces.every((piece) => Buffer.byteLength(piece) <= maxLineBytes)).toBe(true)
    // Each secret masked once, everything else kept: the pieces join to the line with masks for secrets.
    expect(pieces.join("")).toBe(lineWith(200 * 1024, at).split(value).join(mask))
  })

  it.each([maxPartChars - 9, maxPartChars - 1, maxPartChars - value.length + 1])(
    "a streamed part over the trim limit with the secret at %i, where it is trimmed, shows none of it, and keeps the text before it",
    async (at) => {
      const text = lineWith(maxPartChars + 5000, [at])
      const wf = workflow("long-part", { permissions: { env: [secret(name)] } }).step("emit", (_, ctx) => {
        ctx.emit(text)
        ctx.emit({ log: text })
        return 1
      })
      const { result, events } = await runAll(wf)
      expect(result.status).toBe("succeeded")
      expect(leaked(JSON.stringify(events))).toEqual([])
      const parts = events.flatMap((e) => (e.type === "step:partial" ? [e.text] : []))
      expect(parts).toHaveLength(2)
      // Trimmed just before the secret: what is kept is the text up to it, and the count says how much is left out.
      const [kept, more] = parts[0]!.split(/… \((\d+) more characters\)$/)
      expect(text.startsWith(kept!)).toBe(true)
      expect(kept!.length + Number(more)).toBe(text.length)
      expect(kept!.length).toBe(at)
      expect(parts[1]).toMatch(/^\{ log: '\.+… \(\d+ more characters\)$/)
    }
  )
})

describe("the splitter with a redactor's safe cut", () => {
  const redact = makeRedactor([value, "pem-line-one\npem-line-two"])

  it("never splits a secret between pieces, wherever it falls and however the bytes arrive", () => {
    const max = 64
    for (let at = 0; at + value.length <= 3 * max; at++) {
      for (const chunk of [1, 7, 64, 1000]) {
        const line = lineWith(3 * max, [at])
        const pieces: Array<string> = []
        const splitter = makeLineSplitter((text) => pieces.push(text), max, redact.safeByteCut)
        const bytes = Buffer.from(`${line}\n`)
        for (let i = 0; i < bytes.length; i += chunk) splitter.push(bytes.subarray(i, i + chunk))
        splitter.end()
        const shown = pieces.map(redact)
        expect(leaked(shown.join("\n")), `secret at ${at}, chunks of ${chunk}`).toEqual([])
        expect(shown.join("")).toBe(line.split(value).join(mask))
        expect(pieces.every((piece) => piece.length <= max)).toBe(true)
      }
    }
  })

  it("says where a text may be cut: before a secret straddling the limit or begun at its end, and at the limit otherwise", () => {
    const text = `ab ${value} cd`
    expect(redact.safeCut(text, text.length)).toBe(text.length)
    expect(redact.safeCut(text, 3 + value.length)).toBe(3 + value.length)
    expect(redact.safeCut(text, 5)).toBe(3)
    // Begun at the end of what is known: the rest may follow.
    expect(redact.safeCut("ab s3cr", 7)).toBe(3)
    expect(redact.safeByteCut(Buffer.from("ab s3cr"), 7)).toBe(3)
    // A line of a multi-line secret, and a secret longer than the text: nowhere to move, 0.
    expect(redact.safeCut("xx pem-line-t", 13)).toBe(3)
    expect(redact.safeCut(value.slice(0, 10), 10)).toBe(0)
    expect(makeRedactor([]).safeCut("anything", 4)).toBe(4)
  })

  it("partText keeps a secret out of a trimmed part, and trims at the limit when it cannot", () => {
    const text = `${".".repeat(10)}${value}`
    expect(partText(text, 14, redact.safeCut)).toBe(`..........… (${value.length} more characters)`)
    expect(partText(value + value, 10, redact.safeCut)).toBe(`${value.slice(0, 10)}… (${value.length * 2 - 10} more characters)`)
  })
})

describe("a text that is one long run of a secret", () => {
  it("gives up on a safe cut rather than walking back through it (the caller then cuts at the limit)", () => {
    const dashes = makeRedactor(["----"])
    expect(dashes.safeByteCut(Buffer.alloc(maxLineBytes, "-"), maxLineBytes)).toBe(0)
    expect(dashes.safeCut("-".repeat(maxLineBytes), maxLineBytes)).toBe(0)
  })
})
