/**
 * Creating the ordered consumer of a reader, retried while the server is unreachable or restarting
 * (bounded by `maxReconnectTimeMs`); a refusal that retrying cannot fix fails at once.
 */
import {
  type Consumer,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type OrderedConsumerOptions,
} from '@nats-io/jetstream'
import { errorMessage } from './connection.js'
import { NatsConsumerError, NatsUnavailableError } from './errors.js'
import type { ReaderSettings } from './settings.js'

const STREAM_NOT_FOUND = 10059

/** An ordered (ack-free, ephemeral, in-memory) consumer delivering from stream sequence `startSeq`. */
export async function createConsumer<E>(
  js: JetStreamClient,
  s: ReaderSettings<E>,
  startSeq: number,
  signal: AbortSignal,
  superseded: () => boolean,
): Promise<Consumer> {
  const options: Partial<OrderedConsumerOptions> = {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: startSeq,
  }
  if (s.filterSubject !== undefined) options.filter_subjects = s.filterSubject
  const deadline = Date.now() + s.maxReconnectTimeMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await js.consumers.get(s.stream, { ...options })
    } catch (err) {
      if (signal.aborted || superseded()) throw err
      if ((err as Error | undefined)?.name === 'ClosedConnectionError') {
        throw new NatsUnavailableError(`the connection to ${s.server} is closed: reopen the source`, {
          server: s.server,
          cause: err,
        })
      }
      if (err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND) {
        throw new NatsConsumerError(
          `stream '${s.stream}' does not exist on ${s.server}: create it first (see the README), or fix the name`,
          { server: s.server, cause: err },
        )
      }
      if (err instanceof JetStreamApiError && err.status === 400) {
        throw new NatsConsumerError(
          `the server refused a consumer on stream '${s.stream}'${s.filterSubject ? ` with filter '${s.filterSubject}'` : ''}: ${err.message}; check that the filter is within the stream's subjects`,
          { server: s.server, cause: err },
        )
      }
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new NatsUnavailableError(
          `could not create a consumer on stream '${s.stream}' at ${s.server} within ${s.maxReconnectTimeMs} ms (${attempt} attempts; last: ${errorMessage(err)}): check the server's JetStream, or raise maxReconnectTimeMs`,
          { server: s.server, cause: err },
        )
      }
      s.logger.warn(
        { source: s.name, server: s.server, attempt, error: errorMessage(err) },
        'source-nats: consumer creation failed, retrying',
      )
      await sleep(Math.min(s.reconnectWaitMs, left), signal)
    }
  }
}

/**
 * When a reader resumes at `startSeq`, whether the stream still holds it: messages its limits
 * (max age, bytes, count) removed before they were read are gone for good. They are counted and
 * logged, never skipped silently. Returns how many sequences were lost (0 when the check failed).
 */
export async function checkRetention<E>(
  js: JetStreamClient,
  s: ReaderSettings<E>,
  startSeq: number,
): Promise<number> {
  let first: number
  try {
    first = (await (await js.streams.get(s.stream)).info()).state.first_seq
  } catch {
    return 0
  }
  if (startSeq >= first) return 0
  const lost = first - startSeq
  s.metrics.retentionGaps += lost
  s.logger.error(
    { source: s.name, stream: s.stream, resumeAt: startSeq, firstSeq: first, lost },
    'source-nats: the stream no longer holds messages this source had not read (removed by its limits): raise its max_age / max_bytes, or checkpoint more often',
  )
  return lost
}

/** Wait `ms`, or less when `signal` fires. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
