/** Step logs on disk: `.weft/logs/<run>/<step>.log`, written by the `logFiles` reporter. */
export { indexFile, logFiles, logsDir, type LogFilesOptions } from "./LogFiles.ts"
