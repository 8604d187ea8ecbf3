/**
 * The `skewless` command line: one commander program, one subcommand per file under commands/. Each
 * command's module is imported when it runs, so `--help` and usage errors answer without loading
 * Parquet, Arrow and the chart library.
 */
import { Command } from 'commander'
import { basisArg, durationArg, instantArg, intArg, listArg, ttlArg } from './options.js'
import type { CliIo } from './types.js'

const EXIT_HELP = `
Exit codes: 0 ok, 1 failure (no log at the path, a log of a newer format, skew found, ...), 2 usage error.`

/** Build the program; actions write through `io`. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('skewless')
    .description('Inspect, compact, chart and join a Skewless offline log (a directory of Parquet files).')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .addHelpText('after', EXIT_HELP)
  const sub = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .exitOverride()
      .showHelpAfterError('(add --help for usage)')
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
      .addHelpText('after', EXIT_HELP)

  sub('inspect', 'Describe a log: feature definitions, partitions, files, rows, time ranges, bytes.')
    .argument('<log>', 'directory of the offline log')
    .option('--json', 'print JSON instead of a table')
    .action(async (log: string, opts) =>
      (await import('./commands/inspect.js')).inspectCommand(log, opts, io),
    )

  sub('compact', "Merge each partition's small files into a few large sorted ones (takes the writer lock).")
    .argument('<log>', 'directory of the offline log')
    .option('--min-files <n>', 'leave a partition alone unless it has this many files to merge', intArg(2))
    .option(
      '--before <instant>',
      'only partitions whose UTC day ends at or before this instant (ISO date or ms)',
      instantArg,
    )
    .option('--json', 'print the compaction report as JSON')
    .action(async (log: string, opts) =>
      (await import('./commands/compact.js')).compactCommand(log, opts, io),
    )

  sub('freshness', 'Chart the age of served values over time: streaming vs a batch materialization every K.')
    .argument('<log>', 'directory of the offline log')
    .requiredOption('--out <file.svg>', 'where to write the SVG chart')
    .option('--batch-every <duration>', 'period of the simulated batch materialization', durationArg, '1h')
    .option('--samples <n>', 'sample instants per feature', intArg(2), 240)
    .option(
      '--from <instant>',
      'first sample instant (ISO or ms; default: the first availableTime)',
      instantArg,
    )
    .option('--to <instant>', 'last sample instant (ISO or ms; default: the last availableTime)', instantArg)
    .option('--features <a,b>', 'only these features', listArg)
    .option('--served <file.parquet>', 'also chart the ages of these served values (columns as for audit)')
    .option('--json', 'print the percentiles as JSON')
    .action(async (log: string, opts) =>
      (await import('./commands/freshness.js')).freshnessCommand(log, opts, io),
    )

  sub(
    'join',
    'Build a leak-free training set: each label row joined as of its time with the served feature values.',
  )
    .argument('<log>', 'directory of the offline log')
    .requiredOption(
      '--labels <file.parquet>',
      'label rows (an entity column and a time column, plus any others)',
    )
    .requiredOption('--out <file.parquet>', 'where to write the training set')
    .option('--features <a,b>', 'features to join (default: all)', listArg)
    .option('--entity-column <name>', 'label column holding the entity key', 'entity')
    .option('--time-column <name>', 'label column holding the label time', 'time')
    .option('--by <basis>', "'available' (leak-free: what was served) or 'event'", basisArg, 'available')
    .option('--include-age', 'add a <feature>__age_ms column per feature')
    .option('--json', 'print the summary as JSON')
    .action(async (log: string, opts) => (await import('./commands/join.js')).joinCommand(log, opts, io))

  sub('audit', 'Check served values against the log: any difference is training-serving skew (exit 1).')
    .argument('<log>', 'directory of the offline log')
    .requiredOption(
      '--served <file.parquet>',
      'served values: entity, feature, value (or value_*), event_time, read_time',
    )
    .option('--ttl <feature=duration>', "the reader's TTL of a feature (repeatable)", ttlArg)
    .option(
      '--in-flight <duration>',
      'slack for writes in flight at a read (e.g. the p99 write latency)',
      durationArg,
    )
    .option('--json', 'print the audit report as JSON')
    .action(async (log: string, opts) => (await import('./commands/audit.js')).auditCommand(log, opts, io))

  return program
}
