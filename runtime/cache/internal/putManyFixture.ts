/**
 * A writer process for FileStore's two-process test:
 * `node putManyFixture.ts <store dir> <writer id> <rounds> <keys…>`.
 * Puts every key `rounds` times, round-robin, each time with a value of a
 * different length filled with one byte, and reads keys back in between.
 * Exits 1 if it ever reads a value that is not one whole write.
 */
import { createHash } from "node:crypto"
import { makeFileStore } from "../FileStore.ts"

const [dir, writer, rounds, ...keys] = process.argv.slice(2)
if (dir === undefined || writer === undefined || rounds === undefined || keys.length === 0) {
  process.stderr.write("usage: putManyFixture.ts <dir> <writer> <rounds> <keys…>\n")
  process.exit(2)
}

/** A value whose every byte after the first two says which writer made it, and whose length is in those two. */
const valueOf = (writerId: number, round: number): Uint8Array => {
  const length = 3 + ((round * 131 + writerId * 17) % 4000)
  const value = new Uint8Array(length).fill(writerId)
  value[0] = length >> 8
  value[1] = length & 0xff
  return value
}

/** Whether `value` is one whole `valueOf`. */
const isWhole = (value: Uint8Array): boolean => {
  const length = (value[0]! << 8) | value[1]!
  return value.length === length && value.subarray(2).every((b) => b === value[2])
}

const store = makeFileStore(dir, { onWarning: (message) => process.stderr.write(`warning: ${message}\n`) })
const writerId = Number(writer)
for (let round = 0; round < Number(rounds); round++) {
  const key = keys[round % keys.length]!
  const value = valueOf(writerId, round)
  await store.put({
    key,
    kind: "step",
    workflow: "race",
    name: `writer-${writerId}`,
    value,
    logs: [{ stream: "stdout", text: createHash("sha256").update(value).digest("hex") }],
    files: [],
    durationMs: round,
    createdAt: Date.now()
  })
  const read = await store.get(keys[(round * 7) % keys.length]!)
  if (read !== undefined && !isWhole(read.value)) {
    process.stderr.write(`torn read of ${read.key}\n`)
    process.exit(1)
  }
}
