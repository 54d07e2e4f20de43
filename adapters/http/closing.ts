/**
 * @module closing
 * Closing a connection after its last answer without losing that answer. Destroying a socket whose client is still
 * sending makes the kernel answer the unread bytes with a reset, which can discard the answer before the client read
 * it. So the socket is half-closed (FIN after the answer), nothing more is read, and it is destroyed when the client
 * closes its side or after LINGER_MS (the "lingering close" of other servers), whichever comes first.
 */
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'

/** How long a closing connection waits for its client to read the answer. */
const LINGER_MS = 2_000
/** What is read of a closing connection if anything resumes it; past this it is destroyed at once. */
const LINGER_BYTES = 64 * 1024

/** Ends the socket after `last` (if given), reads nothing more, destroys it after the linger. */
export const lingeringClose = (socket: Duplex, last?: string): void => {
  socket.pause()
  let read = 0
  socket.on('data', (chunk: Buffer) => {
    read += chunk.length
    if (read > LINGER_BYTES) socket.destroy()
  })
  const timer = setTimeout(() => socket.destroy(), LINGER_MS)
  socket.once('close', () => clearTimeout(timer))
  socket.once('end', () => socket.destroy())
  socket.once('error', () => socket.destroy())
  if (last === undefined) socket.end()
  else socket.end(last, 'latin1')
}

/**
 * node:http ends a `Connection: close` socket with `socket.destroySoon()` once the answer is written (every version
 * since 0.x does); this socket's own destroySoon closes it lingering instead.
 */
export const lingerWhenClosed = (socket: Socket): void => {
  socket.destroySoon = () => lingeringClose(socket)
}
