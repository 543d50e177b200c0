/**
 * `import()` of a module weft does not bundle (the user's workflow file, tsx).
 * A start-up snapshot (cli/snapshot/) has no `import()` of its own: code
 * compiled into a V8 snapshot runs without the loader's dynamic-import hook
 * ("A dynamic import callback was not specified"), so the snapshot's boot
 * hands over one compiled from a file on disk.
 */
type Importer = (specifier: string) => Promise<Record<string, unknown>>

let importer: Importer = (specifier) => import(specifier) as Promise<Record<string, unknown>>

/** Imports `specifier` (a URL or a package name) with Node's loader. */
export const importModule = (specifier: string): Promise<Record<string, unknown>> => importer(specifier)

/** Replaces the importer, for the snapshot's boot. */
export const setImporter = (next: Importer): void => {
  importer = next
}
