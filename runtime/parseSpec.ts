/**
 * The text of a JSON or YAML spec as data, or what is wrong with it in one
 * message for the author. A YAML tag weft does not read (`!!js/function`,
 * `!custom`) is refused here: the YAML parser would only warn (a raw
 * `YAMLWarning` on stderr) and pass the tagged value on as a string.
 */

/** The parser's result: the data, or the problem (no file name: the caller adds it). */
export type Parsed = { readonly data: unknown } | { readonly problem: string }

type ParseDocument = typeof import("yaml").parseDocument

let parseDocument: ParseDocument | undefined

/** Loads the YAML parser, only when a YAML file is read (it costs start-up time). */
export const prepareYaml = async (): Promise<void> => {
  parseDocument ??= (await import("yaml")).parseDocument
}

/** Parses `text` as JSON (`json`) or YAML; YAML needs `prepareYaml` first. */
export const parseSpec = (text: string, format: "json" | "yaml"): Parsed => {
  if (format === "json") {
    try {
      return { data: JSON.parse(text) }
    } catch (error) {
      return { problem: `is not valid JSON: ${(error as Error).message}` }
    }
  }
  if (parseDocument === undefined) throw new Error("weft bug: the YAML parser was not loaded (prepareYaml)")
  const doc = parseDocument(text)
  const first = doc.errors[0]
  if (first !== undefined) return { problem: `is not valid YAML: ${first.message}` }
  const tags = doc.warnings.filter((w) => w.code === "TAG_RESOLVE_FAILED")
  if (tags.length > 0) {
    const where = tags.map((w) => `${tagOf(w.message)} at line ${w.linePos?.[0].line ?? "?"}, column ${w.linePos?.[0].col ?? "?"}`)
    return {
      problem: `uses a YAML tag weft does not read (${where.join("; ")}). A spec holds plain data: strings, numbers, ` +
        `true/false, lists and maps. Remove the tag, and write a command as a string (run: "npm test") or a list (run: [npm, test])`
    }
  }
  const other = doc.warnings[0]
  if (other !== undefined) return { problem: `is not valid YAML for weft: ${other.message}` }
  let data: unknown
  try {
    data = doc.toJS()
  } catch (error) {
    // Too many aliases (a "billion laughs" file), for one.
    return { problem: `is not valid YAML: ${(error as Error).message}` }
  }
  // `&a [*a]` is a list that holds itself: no field of a spec can be one, and every message about it would loop.
  if (holdsItself(data)) return { problem: "has a YAML alias inside the value it names (like &a [*a]): a spec holds plain data, which cannot contain itself" }
  return { data }
}

/** Whether a list or map contains itself; each shared value is walked once. */
const holdsItself = (root: unknown): boolean => {
  const open = new Set<object>()
  const done = new Set<object>()
  const walk = (value: unknown): boolean => {
    if (typeof value !== "object" || value === null || done.has(value)) return false
    if (open.has(value)) return true
    open.add(value)
    for (const child of value instanceof Map ? value.values() : Object.values(value)) if (walk(child)) return true
    open.delete(value)
    done.add(value)
    return false
  }
  return walk(root)
}

/** `!!js/function` from "Unresolved tag: tag:yaml.org,2002:js/function at line …". */
const tagOf = (message: string): string => {
  const tag = /Unresolved tag: (\S+)/.exec(message)?.[1] ?? "a tag"
  return tag.startsWith("tag:yaml.org,2002:") ? `!!${tag.slice("tag:yaml.org,2002:".length)}` : tag
}
