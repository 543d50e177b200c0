/**
 * What watch mode says between runs. Each rerun is an ordinary run
 * (`run:start` … `run:end`); these events tell why it happened and what watch
 * is doing meanwhile. Reporters receive them through `Reporter.onWatch`.
 */

export type WatchEvent =
  /** Watching began (or the watched set changed): how many files, and whether chokidar fell back to polling. */
  | { readonly type: "watch:ready"; readonly time: number; readonly files: number; readonly polling: boolean }
  /** Files changed: the steps they affect (with everything downstream) are about to rerun. `steps` is empty when nothing is affected. */
  | { readonly type: "watch:change"; readonly time: number; readonly files: ReadonlyArray<string>; readonly steps: ReadonlyArray<string>; readonly interrupted: ReadonlyArray<string> }
  /** The workflow module was reloaded: the steps added, removed and changed since the last good definition. */
  | { readonly type: "watch:reload"; readonly time: number; readonly file: string; readonly added: ReadonlyArray<string>; readonly removed: ReadonlyArray<string>; readonly changed: ReadonlyArray<string> }
  /** The edited workflow does not load or is not a valid workflow: watch goes on with the last good one. */
  | { readonly type: "watch:error"; readonly time: number; readonly file: string; readonly message: string }
  /** Something watch wants the user to know (polling fallback and its fix, a step writing its own input). */
  | { readonly type: "watch:warning"; readonly time: number; readonly message: string }
  /** The run ended and watch is waiting for changes. */
  | { readonly type: "watch:idle"; readonly time: number }

export type WatchEventType = WatchEvent["type"]

/** What the keys of watch mode do; the dashboard binds them, or the CLI reads them from a raw TTY. */
export interface WatchControls {
  /** `r`: rerun every selected step, ignoring kept results (the cache still answers). */
  readonly rerunAll: () => void
  /** `f`: rerun the steps that failed (and what they block). */
  readonly rerunFailed: () => void
  /** `c`: clear the screen and the finished runs' output. */
  readonly clear: () => void
  /** `q` or Ctrl-C: interrupt the run, tear every process down, and exit. */
  readonly quit: () => void
}
