/**
 * Watch mode: run a workflow, then rerun what each file change affects. The
 * CLI's `weft watch` is `startSession` with flags, keys and signals around it.
 */
export type { WatchControls, WatchEvent, WatchEventType } from "./WatchEvent.ts"
export { startSession, type Session, type SessionOptions } from "./Session.ts"
export { keeping, type KeptResult } from "./keep.ts"
export { affected, inputPatterns, outputPatterns, touched, withDownstream } from "./affected.ts"
export { diffWorkflows, fingerprint, type DiffSources, type StepDigest, type WorkflowDiff } from "./diff.ts"
export { loadWithTexts, makeStepDigest, readModuleTexts, type ModuleTexts } from "./stepSources.ts"
export { coversFolder, expandBraces, matches, mayContain, patternsOf, skippedNames, type WatchPattern } from "./globs.ts"
export { limitMessage, makeWatcher, rootsOf, type FileChange, type FileWatcher, type WatchFactory, type WatcherOptions, type WatchStatus, type WatchTarget } from "./Watcher.ts"
export { SelfWrites, type Decision } from "./selfWrites.ts"
export { describeWatchEvent } from "./describeWatchEvent.ts"
export { keyOfLine, keysOf, readKeys, type KeySource, type WatchKey } from "./keys.ts"
