/**
 * What users import from `weft/properties` to check their own workflows.
 */
export { verify, type Finding, type Schedule, type VerifyOptions } from "./verify.ts"
