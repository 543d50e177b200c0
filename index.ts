/**
 * weft: typed workflows compiled to XState, run on Effect fibers.
 *
 * @example
 * import { workflow, run } from "weft"
 * const wf = workflow("hello").step("greet", () => "hi")
 * const result = await run(wf)
 */
export * from "./dsl/index.ts"
export * from "./runtime/index.ts"
