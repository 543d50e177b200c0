/**
 * What the commands share: where they write, how they report usage mistakes
 * (flags are parsed by their tables, `flags.ts`), and how they load a workflow file.
 */
import type { KeySource } from "../runtime/watch/keys.ts"

export interface Io {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  readonly cwd: string
  /** Where SIGINT/SIGTERM come from (default: this process). */
  readonly signals?: NodeJS.EventEmitter
  /** Whether stdout is an interactive terminal (picks the dashboard; default: false). */
  readonly isTTY?: boolean
  /** The environment the command sees (CI, NO_COLOR; default: process.env). */
  readonly env?: NodeJS.ProcessEnv
  /** Where `weft watch` reads its keys (r, f, c, q) when the dashboard does not: a terminal in raw mode, or lines (default: none). */
  readonly stdin?: KeySource | undefined
  /**
   * What keeps the process alive now (`process.getActiveResourcesInfo`), so
   * that `weft run` can say what a step left open (default: not asked).
   */
  readonly openResources?: (() => ReadonlyArray<string>) | undefined
}

/** A mistake in how weft was called: exit code 2, with a pointer to `--help`. */
export class UsageError extends Error {}

/** Loads the workflow `file` for `weft <command>`, whose name its messages use. */
export const load = async (file: string, io: Io, command: string) => {
  // Imported here, not above: the loader brings the DSL and Effect, which `--help` and the loading line need not wait for.
  const { loadWorkflow, prepareYaml } = await import("../runtime/loadWorkflow.ts")
  if (/\.ya?ml$/i.test(file)) await prepareYaml()
  return loadWorkflow(file, io.cwd, command)
}

