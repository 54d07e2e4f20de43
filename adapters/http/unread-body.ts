/**
 * @module unread-body
 * An answer given before the request's body was read to its end (413, 415, 404, 405, a 401 decided from the query,
 * any early answer) closes the connection. Keeping it would make node:http read and discard whatever the client goes
 * on sending, without bound, to reach the next request on the connection (a reviewer pushed 5 GB in 10 s that way).
 *
 * The answer says `Connection: close`, and once it is flushed the connection is closed the lingering way (closing.ts).
 * A request whose body was received whole keeps its connection. The edge (edge.ts) asks once the answer is decided.
 */
import type { Context } from 'koa'
import { lingerWhenClosed } from './closing.js'
import { hasRequestBody } from './json-body.js'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

const closeIfStillUnread = (ctx: Context): void => {
  if (!ctx.req.complete) {
    ctx.set('Connection', 'close')
    lingerWhenClosed(ctx.req.socket)
  }
}

/**
 * Marks the answer to close its connection if the request's body was not read to its end; undefined (nothing to
 * wait for) when it was, or when there is none: the common case costs no turn and no promise.
 */
export const closeIfBodyUnread = (ctx: Context): Promise<void> | undefined => {
  if (ctx.req.complete || !hasRequestBody(ctx.req)) return undefined
  // `complete` is set once the parser saw the end of the message. A small body that came with its head is parsed
  // after the 'request' callback returns: one turn of the event loop lets the parser finish the bytes it holds.
  return nextTurn().then(() => closeIfStillUnread(ctx))
}
