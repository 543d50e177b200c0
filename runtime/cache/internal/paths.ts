/**
 * Paths into a value as a reader would write them (`outputs.items[3].url`),
 * for errors that point at the offending part.
 */

const identifier = /^[A-Za-z_$][\w$]*$/
const index = /^(0|[1-9]\d*)$/

/** `path` extended by a property name. */
export const propertyPath = (path: string, key: string): string =>
  identifier.test(key) ? `${path}.${key}` : index.test(key) ? `${path}[${key}]` : `${path}[${JSON.stringify(key)}]`

/** `path` extended by a `Map` key: `path.get("id")`. */
export const mapValuePath = (path: string, key: unknown): string => `${path}.get(${keyLabel(key)})`

const keyLabel = (key: unknown): string =>
  typeof key === "string"
    ? JSON.stringify(key)
    : typeof key === "bigint"
    ? `${key}n`
    : (typeof key === "object" && key !== null) || typeof key === "function"
    ? "…"
    : String(key)
