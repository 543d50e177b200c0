/**
 * What an isolated step's process may say to weft, as schemas. The child runs
 * the step's code, so nothing it sends is trusted: every message is decoded
 * here before weft acts on it, and one that does not decode fails the step
 * (`malformed`) instead of reaching the executor or a reporter.
 */
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

const Stream = Schema.Literals(["stdout", "stderr", "log"])
const Count = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))

/** The reports a function step makes (`ctx.log`, `console`, `ctx.progress`, `ctx.emit`): nothing else comes from a child. */
const Report = Schema.Union([
  Schema.Struct({ type: Schema.Literal("step:log"), stream: Stream, text: Schema.String }),
  Schema.Struct({ type: Schema.Literal("step:logs"), stream: Stream, texts: Schema.Array(Schema.String) }),
  Schema.Struct({ type: Schema.Literal("step:partial"), index: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)), text: Schema.String }),
  Schema.Struct({ type: Schema.Literal("step:progress"), done: Count, total: Schema.optional(Count), message: Schema.optional(Schema.String) })
])

/** A program the step asks weft to start (`permissions.run` as a list); `id` names it in later messages. */
export const ProgramRequest = Schema.Struct({
  file: Schema.String,
  args: Schema.Array(Schema.String),
  cwd: Schema.optional(Schema.String),
  env: Schema.optional(Schema.Record(Schema.String, Schema.String)),
  /** Bytes for its stdin (synchronous starts only), base64. */
  input: Schema.optional(Schema.String),
  /** Bytes of stdout or stderr kept before it is killed (synchronous starts only). */
  maxBuffer: Schema.optional(Count),
  /** Only ask whether it may start (an asynchronous start asks first, so a refusal throws where the step called). */
  check: Schema.optional(Schema.Boolean)
})
export type ProgramRequest = typeof ProgramRequest.Type

const Message = Schema.Union([
  Schema.Struct({ type: Schema.Literal("report"), report: Report }),
  Schema.Struct({ type: Schema.Literal("done"), value: Schema.Unknown }),
  Schema.Struct({ type: Schema.Literal("denied"), permission: Schema.String, resource: Schema.String }),
  Schema.Struct({ type: Schema.Literal("failed"), message: Schema.String }),
  Schema.Struct({ type: Schema.Literal("spawn"), id: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)), request: ProgramRequest }),
  Schema.Struct({ type: Schema.Literal("kill"), id: Schema.Int, signal: Schema.String })
])

/** A message from an isolated child, decoded. */
export type IsolateMessage = typeof Message.Type

/** What a child may send weft, decoded, or what was wrong with it. */
export const decodeMessage: (u: unknown) => Result.Result<IsolateMessage, { readonly message: string }> = Schema.decodeUnknownResult(Message)

/** A synchronous start request (`execFileSync`) from the child's line channel, decoded. */
export const decodeRequest: (u: unknown) => Result.Result<ProgramRequest, { readonly message: string }> = Schema.decodeUnknownResult(ProgramRequest)

/** A decoding failure in a line of its own, for an error message: the schema's first line says what was expected, the rest where. */
export const describeMalformed = (error: { readonly message: string }): string => error.message.split("\n").map((line) => line.trim()).join(" ")
