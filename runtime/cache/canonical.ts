/**
 * A stable hash of a value, for cache keys over step inputs and memoized
 * arguments: equal data hashes equal however it was built, and any change to
 * the data changes the hash.
 *
 * The encoding, version 1 (every part is tagged and length-prefixed, so no
 * two different values share an encoding):
 * - object keys are sorted; a property set to `undefined` differs from a
 *   missing one; only own enumerable string keys count (symbol keys are
 *   ignored);
 * - arrays keep their order; a hole differs from `undefined`; properties of
 *   an array other than its indices are ignored;
 * - `Map` entries are sorted by the encoding of their key, `Set` members by
 *   their encoding, so insertion order does not matter;
 * - numbers compare like `Object.is`: `-0` and `0` hash differently (a step
 *   can tell them apart: `1 / -0`), every `NaN` hashes the same;
 * - strings by their UTF-16 code units (lone surrogates included);
 * - `Date` as its ISO string, `RegExp` as source and flags, `URL` as its
 *   href, typed arrays and `DataView` by element type and bytes (a `Buffer`
 *   equals a `Uint8Array` with the same bytes), `ArrayBuffer` by bytes;
 * - functions, symbols, promises, class instances (other than those above)
 *   and cycles are refused with an `UnhashableValueError` naming the path:
 *   their state is not data we can see, and hashing what we can see would
 *   make two different values one key. Shared references are fine.
 *
 * @example
 * canonicalHash({ b: 1, a: [1, 2] }) === canonicalHash({ a: [1, 2], b: 1 }) // true
 */
import { hash } from "node:crypto"
import { types } from "node:util"
import * as Data from "effect/Data"
import { mapValuePath, propertyPath } from "./internal/paths.ts"

/** A value that cannot be part of a cache key. */
export class UnhashableValueError extends Data.TaggedError("UnhashableValueError")<{
  /** Where in the value, e.g. `inputs.client.connect`. */
  readonly path: string
  /** What it is, e.g. "is a function". */
  readonly reason: string
}> {
  override get message(): string {
    return `cannot compute a cache key: ${this.path} ${this.reason}`
  }
}

/** Whether `u` is an `UnhashableValueError`. */
export const isUnhashableValueError = (u: unknown): u is UnhashableValueError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "UnhashableValueError"

/** Bumping it changes every hash. */
const version = "weft-canonical:1\0"

/** A growable byte buffer, optionally starting with an ASCII `prefix`. */
class Writer {
  #buffer = Buffer.allocUnsafe(256)
  #length = 0

  constructor(prefix?: string) {
    if (prefix !== undefined) this.#length = this.#buffer.write(prefix, "latin1")
  }

  #reserve(n: number): void {
    if (this.#length + n <= this.#buffer.length) return
    const next = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + n))
    this.#buffer.copy(next, 0, 0, this.#length)
    this.#buffer = next
  }

  tag(tag: string): void {
    this.#reserve(1)
    this.#buffer[this.#length++] = tag.charCodeAt(0)
  }

  number(n: number): void {
    this.#reserve(8)
    this.#buffer.writeDoubleBE(Number.isNaN(n) ? Number.NaN : n, this.#length)
    this.#length += 8
  }

  bytes(bytes: Uint8Array): void {
    this.number(bytes.byteLength)
    this.#reserve(bytes.byteLength)
    this.#buffer.set(bytes, this.#length)
    this.#length += bytes.byteLength
  }

  /** As `bytes` of its UTF-16LE encoding (lone surrogates kept), written in place. */
  string(s: string): void {
    const byteLength = s.length * 2
    this.number(byteLength)
    this.#reserve(byteLength)
    this.#length += this.#buffer.write(s, this.#length, byteLength, "utf16le")
  }

  result(): Buffer {
    return this.#buffer.subarray(0, this.#length)
  }
}

/**
 * Where in the value, rendered only when something is refused: building
 * `inputs.a.b[3]` for every property of every key would cost more than the
 * encoding itself.
 */
type Path = () => string

const rootPath = (root: string): Path => () => root
const atProperty = (path: Path, key: string): Path => () => propertyPath(path(), key)
const atIndex = (path: Path, i: number): Path => () => `${path()}[${i}]`

/** The SHA-256 hex of `value`'s canonical encoding. Throws `UnhashableValueError` on what cannot be a key. */
export const canonicalHash = (value: unknown, options: { readonly root?: string } = {}): string => {
  // The version and the encoding in one buffer, hashed in one call: a `Hash` object per value showed in per-step profiles.
  const writer = new Writer(version)
  encode(writer, value, rootPath(options.root ?? "value"), new Map())
  return hash("sha256", writer.result(), "hex")
}

const refuse = (path: Path, reason: string): never => {
  throw new UnhashableValueError({ path: path(), reason })
}

const encodeAlone = (value: unknown, path: Path, ancestors: Map<object, Path>): Buffer => {
  const writer = new Writer()
  encode(writer, value, path, ancestors)
  return writer.result()
}

/** Writes `count` then the sorted encodings, so insertion order does not matter. */
const writeSorted = (w: Writer, tag: string, parts: Array<Buffer>): void => {
  w.tag(tag)
  w.number(parts.length)
  for (const part of parts.sort(Buffer.compare)) w.bytes(part)
}

const encodeObject = (w: Writer, value: object, path: Path, ancestors: Map<object, Path>): void => {
  if (value instanceof Map) {
    const entries = [...value].map(([key, item]) => {
      const keyBytes = encodeAlone(key, () => `a key of ${path()}`, ancestors)
      const itemBytes = encodeAlone(item, () => mapValuePath(path(), key), ancestors)
      const pair = new Writer()
      pair.bytes(keyBytes)
      pair.bytes(itemBytes)
      return pair.result()
    })
    return writeSorted(w, "M", entries)
  }
  if (value instanceof Set) return writeSorted(w, "E", [...value].map((item) => encodeAlone(item, () => `a member of ${path()}`, ancestors)))
  if (Array.isArray(value)) {
    w.tag("A")
    w.number(value.length)
    for (let i = 0; i < value.length; i++) {
      if (i in value) encode(w, value[i], atIndex(path, i), ancestors)
      else w.tag("H")
    }
    return
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name
    refuse(path, `is an instance of ${typeof name === "string" && name !== "" ? name : "a class"}; pass plain data instead`)
  }
  const keys = Object.keys(value).sort()
  w.tag("O")
  w.number(keys.length)
  for (const key of keys) {
    w.string(key)
    encode(w, (value as Record<string, unknown>)[key], atProperty(path, key), ancestors)
  }
}

const encode = (w: Writer, value: unknown, path: Path, ancestors: Map<object, Path>): void => {
  switch (typeof value) {
    case "undefined":
      return w.tag("U")
    case "boolean":
      return w.tag(value ? "T" : "F")
    case "number":
      w.tag("D")
      return w.number(value)
    case "bigint":
      w.tag("I")
      return w.string(value.toString())
    case "string":
      w.tag("S")
      return w.string(value)
    case "function":
      return refuse(path, "is a function")
    case "symbol":
      return refuse(path, "is a symbol")
  }
  if (value === null) return w.tag("N")
  const object = value as object
  if (types.isDate(object)) {
    const time = (object as Date).getTime()
    w.tag("d")
    return w.string(Number.isNaN(time) ? "Invalid Date" : (object as Date).toISOString())
  }
  if (types.isRegExp(object)) {
    w.tag("R")
    w.string((object as RegExp).source)
    return w.string((object as RegExp).flags)
  }
  if (object instanceof URL) {
    w.tag("L")
    return w.string(object.href)
  }
  if (types.isArrayBufferView(object)) {
    const name = types.isDataView(object) ? "DataView" : Object.prototype.toString.call(object).slice(8, -1)
    w.tag("B")
    w.string(name)
    return w.bytes(new Uint8Array(object.buffer, object.byteOffset, object.byteLength))
  }
  if (types.isArrayBuffer(object)) {
    w.tag("b")
    return w.bytes(new Uint8Array(object))
  }
  if (types.isPromise(object)) return refuse(path, "is a Promise (await it first)")
  const ancestor = ancestors.get(object)
  if (ancestor !== undefined) return refuse(path, `refers back to ${ancestor()} (a cycle)`)
  ancestors.set(object, path)
  try {
    encodeObject(w, object, path, ancestors)
  } finally {
    ancestors.delete(object)
  }
}
