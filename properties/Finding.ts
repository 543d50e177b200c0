/**
 * What `verify` reports: one closed union of findings, each plain data (the
 * JSON reporter prints it as it is) with a `message` for people and the
 * `fix` that would remove it. Every kind names the steps involved, so a
 * finding in a large workflow points at the few steps to look at.
 */
import type { Schedule } from "./internal/schedule.ts"

/** A step whose result (value, status or declared output files) changed with the schedule. */
export interface OrderDependence {
  readonly kind: "order-dependence"
  /** The first step, in plan order, whose result differed. */
  readonly step: string
  /** Two steps with no order between them whose relative order flipped between the two runs; absent when none did. */
  readonly pair?: readonly [string, string] | undefined
  /** Replays the search: `weft verify --seed <seed>`, `verify(wf, { seed })`; absent from `checkSchedule`, whose caller's fast-check seed replays it. */
  readonly seed?: number | undefined
  /** The plain schedule and the smallest drawn one that gave a different result. */
  readonly schedules: readonly [Schedule, Schedule]
  /** What the static race check says of the pair from their declared paths, if anything (the static view beside the dynamic one). */
  readonly declared?: string | undefined
  readonly message: string
  readonly fix: string
}

/**
 * Two steps with no order between them that touched one path, both writing
 * it or one writing what the other read: found by tracing one run, whether
 * or not any schedule changed a result.
 */
export interface Hazard {
  readonly kind: "hazard"
  readonly pair: readonly [string, string]
  /** `write/write`: both wrote it; `write/read`: `writer` wrote what the other read. */
  readonly access: "write/write" | "write/read"
  readonly writer?: string | undefined
  /** Relative to the workflow's folder. */
  readonly path: string
  /** What the static race check says of the pair from their declared paths, if anything (the static view beside the traced one). */
  readonly declared?: string | undefined
  readonly message: string
  readonly fix: string
}

/**
 * A cached step whose traced accesses disagree with its `cache` declaration:
 * it read a file outside its `inputs` (its cached result goes stale when that
 * file changes), wrote outside its `outputs` (a cache hit does not restore
 * it), or declares an input it never read (a change to it reruns the step for nothing).
 */
export interface CacheDeclaration {
  readonly kind: "undeclared-input" | "undeclared-output" | "unused-input"
  readonly step: string
  /** The path read or written, or for `unused-input` the declared glob. */
  readonly path: string
  readonly message: string
  readonly fix: string
}

/** One of weft's or the workflow's promises that did not hold under an injected fault (`faults: true`). */
export interface FaultFinding {
  readonly kind: "fault"
  /** What was injected. */
  readonly fault: "throw" | "sigterm" | "timeout" | "interrupt"
  /** The step the fault was injected into; absent for `interrupt`. */
  readonly step?: string | undefined
  /** The promise that broke, in a few words ("optional steps do not fail the run"). */
  readonly promise: string
  readonly message: string
  readonly fix: string
}

/** A run in which one of the workflow's declared invariants did not hold. */
export interface InvariantFinding {
  readonly kind: "invariant"
  /** The invariant's name, as declared. */
  readonly invariant: string
  /** The steps the invariant's check blamed, if it said. */
  readonly steps: ReadonlyArray<string>
  /** Replays it, as for order dependence; absent when the plain run broke it. */
  readonly seed?: number | undefined
  readonly schedule?: Schedule | undefined
  readonly message: string
  readonly fix: string
}

export type Finding = OrderDependence | Hazard | CacheDeclaration | FaultFinding | InvariantFinding

/** The steps a finding involves, for filtering and for the reporters. */
export const stepsOf = (finding: Finding): ReadonlyArray<string> => {
  switch (finding.kind) {
    case "order-dependence":
      return finding.pair === undefined ? [finding.step] : [...new Set([finding.step, ...finding.pair])]
    case "hazard":
      return finding.pair
    case "undeclared-input":
    case "undeclared-output":
    case "unused-input":
      return [finding.step]
    case "fault":
      return finding.step === undefined ? [] : [finding.step]
    case "invariant":
      return finding.steps
  }
}
