/**
 * @module unread-body
 * An answer given before the request's body was read to its end (413, 415, 404, 405, a 401 decided from the query,
 * any early answer) closes the connection. Keeping it would make node:http read and discard whatever the client goes
 * on sending, without bound, to reach the next request on the connection (a reviewer pushed 5 GB in 10 s that way).
 *
 * The answer says `Connection: close`. Once it is flushed the socket is half-closed (FIN after the answer), nothing
 * more is read, and it is destroyed after LINGER_MS or when the client closes its side. Destroying it at once would
 * make the kernel answer the unread bytes with a reset, which can discard the answer before the client read it (the
 * "lingering close" of other servers). A request whose body was received whole keeps its connection.
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { Middleware } from 'koa'

/** How long a closing connection waits for its client to read the answer. */
export const LINGER_MS = 2_000
/** What is read of a closing connection if anything resumes it; past this it is destroyed at once. */
const LINGER_BYTES = 64 * 1024

/** Framing that announces a body; without it the message ends with its head. */
const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')

const setImmediateP = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * node:http ends a `Connection: close` socket through `socket.destroySoon()` once the answer is written (and every
 * version since 0.x does). This socket's own destroySoon half-closes instead, and destroys after the linger.
 */
const lingerBeforeDestroy = (socket: Socket): void => {
  socket.destroySoon = () => {
    socket.pause()
    let read = 0
    socket.on('data', (chunk: Buffer) => {
      read += chunk.length
      if (read > LINGER_BYTES) socket.destroy()
    })
    const timer = setTimeout(() => socket.destroy(), LINGER_MS)
    socket.once('close', () => clearTimeout(timer))
    socket.once('end', () => socket.destroy())
    socket.end()
  }
}

export const closeIfBodyUnread: Middleware = async (ctx, next) => {
  try {
    await next()
  } finally {
    // `complete` is set once the parser saw the end of the message. A small body that came with its head is parsed
    // after the 'request' callback returns: one turn of the event loop lets the parser finish the bytes it holds.
    if (hasBody(ctx.req) && !ctx.req.complete) await setImmediateP()
    if (hasBody(ctx.req) && !ctx.req.complete) {
      ctx.set('Connection', 'close')
      lingerBeforeDestroy(ctx.req.socket)
    }
  }
}
