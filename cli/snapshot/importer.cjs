// weft's start-up snapshot imports through this file (cli/snapshot/boot.ts):
// code compiled into a V8 snapshot has no dynamic import() of its own. It lives
// in weft's folder so that package names resolve from there, as weft's own do.
module.exports = (specifier) => import(specifier)
