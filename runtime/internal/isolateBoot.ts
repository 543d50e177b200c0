// The isolated child's entry (see isolated.ts). It runs before the step's
// code: it turns on the compile cache weft made for this child, if any, so
// weft and the workflow load from it rather than from source, then starts.
import * as nodeModule from "node:module"

if (process.argv[2] !== undefined) nodeModule.enableCompileCache?.(process.argv[2])
await import("./isolateChild.ts")
