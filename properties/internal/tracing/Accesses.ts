/**
 * What one traced run saw each step do to files, by step id: the paths it
 * read, wrote and removed, relative to the run's folder with `/`
 * separators. Only paths inside the folder count: a step's reads of system
 * libraries, `/proc` or `/dev` are not the workflow's business, nor are
 * `node_modules` (only read, and linked into the copy) and `.weft` (weft's own).
 */
import * as path from "node:path"

/** One step's accesses. A path both written and removed by the step is in `removed` only if the removal came last. */
export interface StepAccesses {
  /** Files whose contents it read (opened for reading, or executed). */
  readonly reads: Set<string>
  /** Files it created, changed, or removed. */
  readonly writes: Set<string>
  /** Of `writes`, those it removed (last): temporary files, not outputs. */
  readonly removed: Set<string>
}

export type Access = "read" | "write" | "remove"

/** By step id. A step that touched nothing in the folder may be absent. */
export type Accesses = ReadonlyMap<string, StepAccesses>

export const emptyAccesses = (): StepAccesses => ({ reads: new Set(), writes: new Set(), removed: new Set() })

const ignoredTops = new Set(["node_modules", ".weft"])

/** `absolute` relative to `root` with `/` separators, or undefined when it is outside it or in an ignored folder. */
export const insideRoot = (root: string, absolute: string): string | undefined => {
  const relative = path.relative(root, absolute)
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return undefined
  const parts = relative.split(path.sep)
  if (ignoredTops.has(parts[0]!)) return undefined
  return parts.join("/")
}

/** Adds one access to `into` (paths already relative). */
export const addAccess = (into: StepAccesses, access: Access, relative: string): void => {
  switch (access) {
    case "read":
      into.reads.add(relative)
      return
    case "write":
      into.writes.add(relative)
      into.removed.delete(relative)
      return
    case "remove":
      into.writes.add(relative)
      into.removed.add(relative)
      return
  }
}

/** One access as it was made: absolute, in the order of the run. */
export interface RawAccess {
  readonly step: string
  readonly access: Access
  readonly path: string
}

/** By step id, the accesses inside one of `roots` (the folder, and its real path where that differs). */
export const accessesWithin = (raw: Iterable<RawAccess>, roots: ReadonlyArray<string>): Accesses => {
  const accesses = new Map<string, StepAccesses>()
  for (const { step, access, path: absolute } of raw) {
    const relative = roots.map((root) => insideRoot(root, absolute)).find((r) => r !== undefined)
    if (relative === undefined) continue
    let mine = accesses.get(step)
    if (mine === undefined) accesses.set(step, (mine = emptyAccesses()))
    addAccess(mine, access, relative)
  }
  return accesses
}
