/**
 * The Ink terminal dashboard. It arrives with watch mode; until then the plain
 * and JSON reporters in `runtime/reporters` show runs. Nothing is exported yet.
 */
export {}
