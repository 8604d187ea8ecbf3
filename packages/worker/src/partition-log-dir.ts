import { join } from 'node:path'

/**
 * The log directory of `partition` under a partitioned log's `root`: `<root>/partition=<n>` (a Hive
 * partition: DuckDB's `read_parquet('<root>/**\/*.parquet', hive_partitioning = true)` reads them all).
 */
export function partitionLogDir(root: string, partition: number): string {
  return join(root, `partition=${partition}`)
}
