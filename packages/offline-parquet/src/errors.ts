import { SkewlessError, type SkewlessErrorOptions } from '@skewless/core'

/**
 * A `.parquet` file under the log directory could not be read as a log segment: truncated, torn by
 * something other than this library, foreign (another schema), or not Parquet at all. The rest of
 * the log stays readable: pass `onCorruptFile: 'skip'` (or a callback) to read around it.
 */
export class CorruptFileError extends SkewlessError {
  /** Absolute path of the offending file. */
  readonly file: string

  constructor(file: string, detail: string, options?: SkewlessErrorOptions) {
    super(
      'corrupt-file',
      `offline-parquet: cannot read log file ${file}: ${detail}. Move or delete the file, or open the log ` +
        "with onCorruptFile: 'skip' to read the rest of the log around it.",
      options,
    )
    this.file = file
  }
}

/** Writing a segment failed (disk full, permissions, encoder error). The append that waited on it rejects. */
export class CommitFailedError extends SkewlessError {
  constructor(message: string, options?: SkewlessErrorOptions) {
    super('commit-failed', `offline-parquet: ${message}`, options)
  }
}
