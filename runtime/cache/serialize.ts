/**
 * Step outputs and memoized results as bytes, with structured clone semantics
 * (`node:v8` serialize): primitives including `bigint`, plain objects, arrays,
 * `Map`, `Set`, `Date`, `RegExp`, `Error`, `ArrayBuffer` and typed arrays
 * (a `Buffer` comes back a `Buffer`) round-trip, and so do shared and cyclic
 * references.
 *
 * What does not survive, by design of structured clone:
 * - a class instance comes back as a plain object with its own enumerable
 *   properties: prototype, methods, getters on the prototype and `#private`
 *   fields are lost (return plain data from a cached step);
 * - properties keyed by symbols and non-enumerable properties are dropped.
 *
 * What is refused with an `UnstorableValueError` naming the path, since
 * storing it would silently store something else: functions, symbols,
 * promises, weak collections, proxies, iterators, streams, sockets and other
 * event emitters or event targets, URLs, crypto keys, shared memory, and
 * anything else `node:v8` cannot clone.
 */
import { EventEmitter } from "node:events"
import { types } from "node:util"
import * as v8 from "node:v8"
import * as Data from "effect/Data"
import { mapValuePath, propertyPath } from "./internal/paths.ts"

/** A step returned (or a memoized function produced) something the cache cannot hold. */
export class UnstorableValueError extends Data.TaggedError("UnstorableValueError")<{
  readonly step: string
  /** Where in the value, e.g. `outputs.client.socket`. */
  readonly path: string
  /** What it is, e.g. "is a function". */
  readonly reason: string
}> {
  override get message(): string {
    return `step "${this.step}": cannot cache its output: ${this.path} ${this.reason}`
  }
}

/** Whether `u` is an `UnstorableValueError`. */
export const isUnstorableValueError = (u: unknown): u is UnstorableValueError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "UnstorableValueError"

/** Where a value comes from, for the error message. */
export interface SerializeWhere {
  readonly step: string
  /** The name of the value's root in paths (default `outputs`). */
  readonly root?: string
}

/**
 * The bytes of `value`, to be turned back by `deserializeValue`.
 * Throws `UnstorableValueError` when the value cannot be stored faithfully.
 *
 * @example
 * const bytes = serializeValue({ count: 3, seen: new Set(["a"]) }, { step: "scan" })
 * deserializeValue(bytes) // { count: 3, seen: Set { "a" } }
 */
export const serializeValue = (value: unknown, where: SerializeWhere): Uint8Array => {
  const root = where.root ?? "outputs"
  const found = findUnstorable(value, root, new Set())
  if (found !== undefined) throw new UnstorableValueError({ step: where.step, ...found })
  try {
    const bytes = v8.serialize(value)
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  } catch (error) {
    const located = locateUnclonable(value, root, new Set())
    const detail = error instanceof Error ? error.message : String(error)
    throw new UnstorableValueError({
      step: where.step,
      path: located?.path ?? root,
      reason: located?.reason ?? `cannot be cloned (${detail})`
    })
  }
}

/** The value `serializeValue` stored. Throws on bytes it did not produce. */
export const deserializeValue = (bytes: Uint8Array): unknown =>
  v8.deserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))

interface Found {
  readonly path: string
  readonly reason: string
}

/**
 * Plain objects and arrays, the usual output, skip the checks that only a
 * class instance can fail: `types.isKeyObject` and `types.isCryptoKey` are
 * JavaScript in Node that take about 9 us an object (the `getKeyObjectSlots`
 * of a per-step profile), where the checks before them cost nanoseconds.
 */
const plainPrototypes: ReadonlySet<unknown> = new Set([Object.prototype, Array.prototype, null])

const refuse = (value: object): string | undefined => {
  if (types.isProxy(value)) return "is a Proxy"
  if (types.isPromise(value)) return "is a Promise (await it before returning)"
  if (types.isWeakMap(value) || types.isWeakSet(value) || value instanceof WeakRef || value instanceof FinalizationRegistry) {
    return "is a weak reference or collection"
  }
  if (types.isSharedArrayBuffer(value)) return "is shared memory (a SharedArrayBuffer)"
  if (types.isGeneratorObject(value) || types.isMapIterator(value) || types.isSetIterator(value)) {
    return "is an iterator (spread it into an array first)"
  }
  if (types.isModuleNamespaceObject(value)) return "is a module namespace"
  if (plainPrototypes.has(Object.getPrototypeOf(value))) return undefined
  if (types.isKeyObject(value) || types.isCryptoKey(value)) return "is a crypto key"
  if (value instanceof EventEmitter) return "is an event emitter (a stream, socket, child process or server)"
  if (value instanceof EventTarget) return "is an event target (an AbortSignal, a MessagePort, …)"
  if (value instanceof ReadableStream || value instanceof WritableStream || value instanceof TransformStream) return "is a stream"
  if (value instanceof URL || value instanceof URLSearchParams) return "is a URL (store its string instead)"
  if (value instanceof Blob) return "is a Blob (store its bytes instead)"
  return undefined
}

/** Leaves structured clone copies whole, without looking inside. */
const isLeaf = (value: object): boolean =>
  types.isDate(value) || types.isRegExp(value) || types.isNativeError(value) || types.isArrayBufferView(value) ||
  types.isArrayBuffer(value) || types.isBoxedPrimitive(value)

const findUnstorable = (value: unknown, path: string, seen: Set<object>): Found | undefined => {
  if (typeof value === "function") return { path, reason: "is a function" }
  if (typeof value === "symbol") return { path, reason: "is a symbol" }
  if (typeof value !== "object" || value === null || seen.has(value)) return undefined
  seen.add(value)
  const reason = refuse(value)
  if (reason !== undefined) return { path, reason }
  if (isLeaf(value)) return undefined
  if (value instanceof Map) {
    for (const [key, item] of value) {
      const found = findUnstorable(key, `a key of ${path}`, seen) ?? findUnstorable(item, mapValuePath(path, key), seen)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (value instanceof Set) {
    for (const item of value) {
      const found = findUnstorable(item, `a member of ${path}`, seen)
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const key of Object.keys(value)) {
    let item: unknown
    try {
      item = (value as Record<string, unknown>)[key]
    } catch {
      return { path: propertyPath(path, key), reason: "has a getter that throws" }
    }
    const found = findUnstorable(item, propertyPath(path, key), seen)
    if (found !== undefined) return found
  }
  return undefined
}

const clones = (value: unknown): boolean => {
  try {
    v8.serialize(value)
    return true
  } catch {
    return false
  }
}

/** The deepest part of `value` that `node:v8` refuses, for something `findUnstorable` did not foresee. */
const locateUnclonable = (value: unknown, path: string, seen: Set<object>): Found | undefined => {
  if (typeof value !== "object" || value === null || seen.has(value) || clones(value)) return undefined
  seen.add(value)
  const children: Array<readonly [unknown, string]> = value instanceof Map
    ? [...value].flatMap(([key, item]) => [[key, `a key of ${path}`], [item, mapValuePath(path, key)]] as const)
    : value instanceof Set
    ? [...value].map((item) => [item, `a member of ${path}`] as const)
    : Object.keys(value).map((key) => [(value as Record<string, unknown>)[key], propertyPath(path, key)] as const)
  for (const [child, childPath] of children) {
    const found = locateUnclonable(child, childPath, seen)
    if (found !== undefined) return found
  }
  return { path, reason: `is a ${value.constructor?.name ?? "value"} that cannot be cloned` }
}
