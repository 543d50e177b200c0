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
