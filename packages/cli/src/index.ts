export { type LogSummary, summarizeLog } from './commands/inspect.js'
export { discoverLog, FILE_FORMAT, MANIFEST_FORMAT } from './discover-log.js'
export {
  CliError,
  EXIT,
  InputFileError,
  NotALogError,
  SkewFoundError,
  UnsupportedFormatError,
} from './errors.js'
export { run } from './run.js'
export type * from './types.js'
