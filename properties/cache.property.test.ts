/**
 * The step cache against a model: random small workflows whose steps read
 * some of three input files (declared in `cache.inputs`) and their needs'
 * outputs, and return a hash of what they read; random sequences of edits
 * (new content, the same content again, an unrelated file). After every edit:
 *
 * - `outputsMatchScratch`: a cached run's outputs equal those of a run that
 *   neither reads nor writes the cache;
 * - `runsIffKeyNew`: a step runs (ends `succeeded`) exactly when the model's
 *   key, the contents of the files it reads and its needs' outputs, was never
 *   stored by an earlier cached run (entries are kept, so content restored to
 *   an earlier version is a hit again); otherwise it ends `cached`.
 *
 * On failure the workflow, the edits and the statuses are printed; fast-check
 * adds the seed and path to replay it.
 */
import { createHash } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import * as fc from "fast-check"
import { afterAll, describe, expect, test } from "vitest"
import { makeStepDef } from "../dsl/Step.ts"
import { Workflow } from "../dsl/Workflow.ts"
import { run } from "../runtime/Run.ts"

const scale = Number(process.env.WEFT_PROPERTY_RUNS ?? 1)
const files = ["f0.txt", "f1.txt", "f2.txt"] as const

interface StepModel {
  readonly reads: ReadonlyArray<number>
  readonly needs: ReadonlyArray<number>
}

type Edit =
  | { readonly kind: "write"; readonly file: number; readonly content: string }
  | { readonly kind: "same"; readonly file: number }
  | { readonly kind: "unrelated"; readonly content: string }

const content = fc.constantFrom("a", "b", "c", "abc")

const stepsArb: fc.Arbitrary<ReadonlyArray<StepModel>> = fc.integer({ min: 1, max: 5 }).chain((n) =>
  fc.tuple(...Array.from({ length: n }, (_, i) =>
    fc.record({
      reads: fc.subarray([0, 1, 2]),
      needs: fc.subarray(Array.from({ length: i }, (_, j) => j))
    })
  ))
)

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), file: fc.nat({ max: 2 }), content }),
  fc.record({ kind: fc.constant("same" as const), file: fc.nat({ max: 2 }) }),
  fc.record({ kind: fc.constant("unrelated" as const), content })
)

const roots: Array<string> = []
afterAll(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

const sha = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 16)

/** The system: a weft workflow over `root` whose steps do what the model says. */
const workflowOf = (root: string, steps: ReadonlyArray<StepModel>) =>
  Workflow.make("cache-model", { concurrency: 3 }, steps.map((s, i) =>
    makeStepDef(
      `s${i}`,
      { needs: s.needs.map((j) => `s${j}`), cache: { inputs: s.reads.map((f) => files[f]!) } },
      (inputs: Record<string, unknown>) =>
        sha(JSON.stringify([s.reads.map((f) => readFileSync(path.join(root, files[f]!), "utf8")), s.needs.map((j) => inputs[`s${j}`])]))
    )
  ))

/** The model: each step's output and key from the files' contents alone. */
const modelRun = (steps: ReadonlyArray<StepModel>, contents: ReadonlyArray<string>) => {
  const outputs: Array<string> = []
  const keys: Array<string> = []
  steps.forEach((s, i) => {
    const read = s.reads.map((f) => contents[f]!)
    const needed = s.needs.map((j) => outputs[j]!)
    outputs.push(sha(JSON.stringify([read, needed])))
    keys.push(JSON.stringify([i, s.reads, read, needed]))
  })
  return { outputs, keys }
}

const outputsMatchScratch = (cached: Record<string, unknown>, scratch: Record<string, unknown>) => expect(cached).toEqual(scratch)

const runsIffKeyNew = (statuses: Record<string, string>, keys: ReadonlyArray<string>, stored: Set<string>) =>
  expect(statuses).toEqual(Object.fromEntries(keys.map((key, i) => [`s${i}`, stored.has(key) ? "cached" : "succeeded"])))

describe("step cache against a model", () => {
  test("after any edits, cached outputs equal a scratch run's, and a step runs iff its key is new", async () => {
    await fc.assert(
      fc.asyncProperty(stepsArb, fc.array(editArb, { maxLength: 5 }), async (steps, edits) => {
        const root = mkdtempSync(path.join(tmpdir(), "weft-cache-prop-"))
        roots.push(root)
        const contents = ["a", "a", "b"]
        contents.forEach((c, f) => writeFileSync(path.join(root, files[f]!), c))
        const wf = workflowOf(root, steps)
        const stored = new Set<string>()
        const trace: Array<string> = []
        for (const edit of [undefined, ...edits]) {
          if (edit?.kind === "write") contents[edit.file] = edit.content
          if (edit?.kind === "write" || edit?.kind === "same") writeFileSync(path.join(root, files[edit.file]!), contents[edit.file]!)
          if (edit?.kind === "unrelated") writeFileSync(path.join(root, "unrelated.txt"), edit.content)
          const cached = await run(wf, { cwd: root, cache: { dir: path.join(root, ".weft", "cache") } })
          const scratch = await run(wf, { cwd: root, cache: { mode: "off" } })
          const statuses = Object.fromEntries(Object.entries(cached.steps).map(([id, s]) => [id, s.status as string]))
          trace.push(`${JSON.stringify(edit ?? "start")} → ${JSON.stringify(statuses)}`)
          const model = modelRun(steps, contents)
          try {
            outputsMatchScratch(cached.outputs, scratch.outputs)
            expect(scratch.outputs).toEqual(Object.fromEntries(model.outputs.map((o, i) => [`s${i}`, o])))
            runsIffKeyNew(statuses, model.keys, stored)
          } catch (error) {
            throw new Error(`${(error as Error).message}\nsteps: ${JSON.stringify(steps)}\ntrace:\n  ${trace.join("\n  ")}`)
          }
          for (const key of model.keys) stored.add(key)
        }
      }),
      { numRuns: Math.max(1, Math.round(100 * scale)) }
    )
  }, 30_000)
})
