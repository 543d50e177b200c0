/**
 * Whether a path or glob relative to the workflow's folder (`/`-separated)
 * lies inside a `.weft` folder: weft's own state, which a restore never
 * writes into. The definition check refuses such `cache.outputs` with the
 * same rule the restore applies, so the two cannot disagree.
 */
export const insideWeftFolder = (relative: string): boolean => relative.replace(/^\.\//, "").split("/").includes(".weft")
