/** Runs as Chrome traces (`weft run --trace`): one track per concurrency slot. */
export { TraceBuilder, traceWriter, type Trace, type TraceEvent, type TraceWriterOptions } from "./Trace.ts"
