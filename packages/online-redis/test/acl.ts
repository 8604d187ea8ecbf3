/**
 * The least-privilege ACLs of docs/security.md, as `redis-server --user` arguments. The docs quote
 * these lines verbatim (redis-acl.test.ts checks it), so the documented ACL is the tested one.
 */

/** Every command a writer sends or its script calls (apply script, reads after a retry, ioredis' connect). */
export const WRITER_COMMANDS =
  '-@all +evalsha +eval +hget +hmget +hgetall +hset +hlen +hkeys +hdel +pttl +pexpire +persist +info +ping'

/** A reader's commands: the read pipeline (HMGET, HGETALL) and ioredis' connect. */
export const READER_COMMANDS = '-@all +hmget +hgetall +info +ping'

/** ACL rule of a writer for keys under `prefix` (`~` read and write). */
export function writerAcl(user: string, password: string, prefix = 'sk:'): string {
  return `user ${user} on >${password} resetkeys ~${prefix}* resetchannels ${WRITER_COMMANDS}`
}

/** ACL rule of a reader for keys under `prefix` (`%R~`: read only, even for a command that could write). */
export function readerAcl(user: string, password: string, prefix = 'sk:'): string {
  return `user ${user} on >${password} resetkeys %R~${prefix}* resetchannels ${READER_COMMANDS}`
}

/** `redis-server` arguments that create the users of `rules` (one `--user` config line each). */
export function userArgs(rules: readonly string[]): string[] {
  return rules.flatMap((r) => ['--user', ...r.replace(/^user /, '').split(' ')])
}
