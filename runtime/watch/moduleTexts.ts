/**
 * The texts a workflow was loaded from: its file and the local modules it
 * imports, read before and after the import (`loadWithTexts`). Watch mode's
 * per-step digests and function steps' cache keys are computed from them.
 * Apart from `stepSources.ts`, so loading a workflow does not load its parser.
 */
import { readFileSync } from "node:fs"
import { localModules } from "../cache/moduleGraph.ts"

/** The text of a workflow module and of every local module it imports, by absolute path. */
export type ModuleTexts = ReadonlyMap<string, string>

const moduleExtension = /\.[cm]?[jt]sx?$/i

/** The texts of `entry` and its local modules, read now; none for a spec file. */
export const readModuleTexts = (entry: string): ModuleTexts => {
  const texts = new Map<string, string>()
  if (!moduleExtension.test(entry)) return texts
  for (const file of localModules(entry)) {
    try {
      texts.set(file, readFileSync(file, "utf8"))
    } catch {
      // Gone: any digest that needs it is unprovable.
    }
  }
  return texts
}

const sameTexts = (a: ModuleTexts, b: ModuleTexts): boolean => a.size === b.size && [...a].every(([file, text]) => b.get(file) === text)

/**
 * Runs `load` between two reads of `entry`'s module texts. When both agree,
 * they are the texts that were loaded; when a save fell in between, which
 * one was loaded is unknown: `texts` is `undefined`.
 *
 * @example
 * const { value, texts } = await loadWithTexts(file, () => load(file))
 * const digest = makeStepDigest(value, file, texts)
 */
export const loadWithTexts = async <A>(entry: string, load: () => Promise<A>): Promise<{ readonly value: A; readonly texts: ModuleTexts | undefined }> => {
  const before = readModuleTexts(entry)
  const value = await load()
  return { value, texts: sameTexts(before, readModuleTexts(entry)) ? before : undefined }
}
