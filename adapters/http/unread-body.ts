/**
 * @module unread-body
 * An answer given before the request's body was read to its end (413, 415, 404, 405, a 401 decided from the query,
 * any early answer) closes the connection. Keeping it would make node:http read and discard whatever the client goes
 * on sending, without bound, to reach the next request on the connection (a reviewer pushed 5 GB in 10 s that way).
 *
 * The answer says `Connection: close`, and once it is flushed the connection is closed the lingering way (closing.ts).
 * A request whose body was received whole keeps its connection.
 */
import type { Middleware } from 'koa'
import { lingerWhenClosed } from './closing.js'
import { hasRequestBody } from './json-body.js'

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

export const closeIfBodyUnread: Middleware = async (ctx, next) => {
  try {
    await next()
  } finally {
    // `complete` is set once the parser saw the end of the message. A small body that came with its head is parsed
    // after the 'request' callback returns: one turn of the event loop lets the parser finish the bytes it holds.
    if (hasRequestBody(ctx.req) && !ctx.req.complete) await nextTurn()
    if (hasRequestBody(ctx.req) && !ctx.req.complete) {
      ctx.set('Connection', 'close')
      lingerWhenClosed(ctx.req.socket)
    }
  }
}
