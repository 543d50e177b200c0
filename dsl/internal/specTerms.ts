/**
 * The definition check's messages name the builder's spelling where a spec's
 * differs: a secret is `{ secret: "NAME" }`, workflow options sit at the
 * spec's top level, and its name is a key.
 */
export const inSpecTerms = (message: string): string =>
  message
    .replace(/secret\(("(?:[^"\\]|\\.)*")\)/g, "{ secret: $1 }")
    .replace(/workflow\((?:name|"[^"]*"), \{ (.*) \}\)/, "$1 at the top of the spec")
    .replace(/^the workflow needs a name: .*$/, `the spec needs a name, like name: "build"`)
