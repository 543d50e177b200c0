/**
 * What users import from `weft/properties` to check their own workflows.
 */
export { verify, type Schedule, type VerifyOptions, type VerifyProgress } from "./verify.ts"
export { stepsOf, type CacheDeclaration, type FaultFinding, type Finding, type Hazard, type InvariantFinding, type OrderDependence } from "./Finding.ts"
export { checkSchedule, schedules, verifyProperty, type CheckScheduleOptions, type ScheduleOptions, type VerifyPropertyOptions } from "./scheduleProperty.ts"
export * as invariants from "./readyInvariants.ts"
export * as arbitraries from "./publicArbitraries.ts"
export type { Invariant, InvariantResult, RunView, StepRecord, StepOutcome, Steps } from "../dsl/Invariant.ts"
