/**
 * @module log-destination
 * Where the service's log lines go by default: standard output through sonic-boom (pino's own destination), in its
 * buffer mode, with each line handed over as its UTF-8 bytes.
 *
 * Why not pino's default (sonic-boom's string mode): while a write is in flight, the lines that follow are appended to
 * one pending string, and each append measures that whole string again (`Buffer.byteLength` of the last chunk, up to
 * `maxWrite`), which flattens the concatenation it has just made: the cost of a line grows with the lines queued before
 * it. Under load, when dozens of request lines queue behind each write, that was 1.5 to 2 µs a line. The buffer mode
 * keeps each chunk's length beside it and joins the chunks once per write. The bytes written are the same, in the same
 * order (test/ops/log-destination.property.test.ts holds it to the string mode), and pino's own guards stay: the
 * destination is made by `pino.destination` (the flush at exit, the end of logging on EPIPE).
 */
import { pino, type DestinationStream } from 'pino'

export const logDestination = (dest: number | string = 1): DestinationStream => {
  const stream = pino.destination({ dest, sync: false, contentMode: 'buffer' })
  // In the buffer mode sonic-boom's write takes a Buffer; its types know only the string form.
  const writeBytes = stream.write as unknown as (this: typeof stream, bytes: Buffer) => boolean
  stream.write = function (this: typeof stream, line: string) {
    return writeBytes.call(this, Buffer.from(line))
  }
  return stream
}
