/**
 * Watching a reader's connection and consumer: every disconnect, reconnect and consumer reset is
 * logged and counted, and a connection lost for longer than `maxReconnectTimeMs` (or closed under
 * the reader) fails it.
 */
import type { ConsumerMessages } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import * as internal from '@skewless/core/internal'
import { NatsUnavailableError } from './errors.js'
import type { ReaderSettings } from './settings.js'

/** Start watching; returns the function that stops it. */
export function watchConnection<E>(
  nc: NatsConnection,
  s: ReaderSettings<E>,
  fail: (err: Error) => void,
  onReconnect: () => void,
): () => void {
  const { logger, metrics, name, maxReconnectTimeMs } = s
  const statuses = nc.status()
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const clear = () => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
  void (async () => {
    for await (const st of statuses) {
      if (stopped) break
      if (st.type === 'disconnect') {
        metrics.disconnects++
        const server = internal.redactUrl(st.server)
        logger.warn({ source: name, server }, 'source-nats: disconnected, reconnecting')
        if (timer === undefined) {
          timer = setTimeout(() => {
            timer = undefined
            fail(
              new NatsUnavailableError(
                `lost the connection to ${s.server} for more than maxReconnectTimeMs (${maxReconnectTimeMs} ms): bring the server back, then reopen the source from its last position`,
                { server: s.server },
              ),
            )
          }, maxReconnectTimeMs)
        }
      } else if (st.type === 'reconnect') {
        metrics.reconnects++
        clear()
        logger.info({ source: name, server: internal.redactUrl(st.server) }, 'source-nats: reconnected')
        onReconnect()
      } else if (st.type === 'close') {
        clear()
        fail(
          new NatsUnavailableError(`the connection to ${s.server} was closed while the source was reading`, {
            server: s.server,
          }),
        )
      }
    }
  })().catch(() => undefined)
  return () => {
    stopped = true
    clear()
    // The client's status iterator is a QueuedIterator: stop() ends a pending `for await` at once.
    ;(statuses as { stop?: () => void }).stop?.()
  }
}

/** Report a consumer's notifications; `fail` gets the error its message flow ends with, if any. */
export function watchConsumer<E>(
  messages: ConsumerMessages,
  s: ReaderSettings<E>,
  fail: (err: Error) => void,
): void {
  const { logger, metrics, name } = s
  // Both loops end when the messages are closed (the client stops its listeners then).
  void (async () => {
    for await (const n of messages.status()) {
      if (n.type === 'ordered_consumer_recreated') {
        metrics.consumerResets++
        logger.info({ source: name, consumer: n.name }, 'source-nats: ordered consumer recreated')
      } else if (n.type === 'heartbeats_missed') {
        logger.warn({ source: name, count: n.count }, 'source-nats: consumer heartbeats missed')
      }
    }
  })().catch(() => undefined)
  void messages.closed().then((err) => {
    if (err instanceof Error) {
      fail(
        new NatsUnavailableError(`reading stream '${s.stream}' failed: ${err.message}`, {
          server: s.server,
          cause: err,
        }),
      )
    }
  })
}
