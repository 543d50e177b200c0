/**
 * Writing into objects keyed by step ids. Any string is an id, and
 * `record[id] = value` does the wrong thing for one of them: with `__proto__`
 * it sets the record's prototype instead of adding a key, so the step went
 * missing from `result.outputs` and its output became what every other lookup
 * there fell back to. Other prototype names (`constructor`, `toString`)
 * assign fine: an own key shadows the inherited one.
 */

/** `record[id] = value`, as an own, enumerable key even when `id` is `__proto__`. */
export const setById = <V>(record: Record<string, V>, id: string, value: V): void => {
  if (id === "__proto__") Object.defineProperty(record, id, { value, writable: true, enumerable: true, configurable: true })
  else record[id] = value
}

/** `record[id]` when it is the record's own key; never what the prototype has under that name. */
export const getById = <V>(record: Readonly<Record<string, V>>, id: string): V | undefined =>
  Object.hasOwn(record, id) ? record[id] : undefined

/**
 * A read-only record of `values` by id, read through to them: `view[id]` is
 * `values[indexOf.get(id)]` at the time of reading, `Object.keys` are `ids`
 * in order, and it is plain data to `JSON.stringify`, spreads and `for in`.
 * Nothing is written per change: a record kept up to date as statuses moved
 * was four keyed writes a step (a tenth of a 100,000-step run, cold) for a
 * record most runs never show. Writes are refused (a `TypeError` in strict
 * code); names that are not ids read as on any object (`toString`).
 */
export const viewById = <V>(ids: ReadonlyArray<string>, indexOf: ReadonlyMap<string, number>, values: ArrayLike<V>): Readonly<Record<string, V>> => {
  const at = (key: string | symbol): number | undefined => (typeof key === "string" ? indexOf.get(key) : undefined)
  return new Proxy<Record<string, V>>({}, {
    get: (target, key) => {
      const i = at(key)
      return i === undefined ? Reflect.get(target, key) : values[i]
    },
    has: (target, key) => at(key) !== undefined || Reflect.has(target, key),
    ownKeys: () => [...ids],
    getOwnPropertyDescriptor: (_, key) => {
      const i = at(key)
      return i === undefined ? undefined : { value: values[i], writable: false, enumerable: true, configurable: true }
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    setPrototypeOf: () => false
  })
}
