/**
 * @module test/http/streaming-client
 * A client on a bare TCP socket that sends a request head and then keeps sending body bytes (as fast as the socket
 * takes them, or slowly, one chunk per interval) whatever the server answers, until the server closes the connection
 * or the deadline passes. It reports what came back and how much the server let it send, so that a test can tell a
 * server that stops reading from one that drains whatever it is sent.
 */
import { connect } from 'node:net'
import { parseResponse, type Outcome } from '../fuzz/raw-client.js'

export interface StreamingResult {
  /** The first answer, parsed from what was received (whole or not). */
  readonly answer: Outcome
  /** Did the server close the connection (end, reset or a write refused) before the deadline? */
  readonly closedByServer: boolean
  /** Milliseconds from the first byte sent to the close (or to the deadline). */
  readonly ms: number
  /** Milliseconds from the first byte sent to the first byte received, if any. */
  readonly answeredAfterMs?: number
  /** Body bytes the socket accepted (written into the kernel: the server read them or its buffers hold them). */
  readonly bodyBytesSent: number
}

export interface StreamingOptions {
  readonly port: number
  /** The request head, CRLF CRLF included. */
  readonly head: string
  /** One body piece, sent again and again (already framed: a chunk with its size line for chunked bodies). */
  readonly piece: Buffer
  /** Pause between pieces; 0 sends as fast as the socket drains. */
  readonly intervalMs: number
  readonly deadlineMs: number
}

export const streamBody = (o: StreamingOptions): Promise<StreamingResult> =>
  new Promise((resolve) => {
    const started = Date.now()
    const received: Buffer[] = []
    let answeredAfterMs: number | undefined
    let bodyBytesSent = 0
    let settled = false
    let timer: NodeJS.Timeout | undefined
    const socket = connect(o.port, '127.0.0.1')
    const finish = (closedByServer: boolean) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      clearTimeout(deadline)
      socket.destroy()
      resolve({ answer: parseResponse(Buffer.concat(received)), closedByServer, ms: Date.now() - started, answeredAfterMs, bodyBytesSent })
    }
    const deadline = setTimeout(() => finish(false), o.deadlineMs)
    const send = (): void => {
      if (settled) return
      // A write the kernel took is counted once its callback says so without an error.
      const ok = socket.write(o.piece, (err) => {
        if (!err) bodyBytesSent += o.piece.length
      })
      if (o.intervalMs > 0) timer = setTimeout(send, o.intervalMs)
      else if (ok) setImmediate(send)
      else socket.once('drain', send)
    }
    socket.on('data', (c: Buffer) => {
      answeredAfterMs ??= Date.now() - started
      received.push(c)
    })
    socket.on('end', () => finish(true))
    socket.on('close', () => finish(true))
    socket.on('error', () => finish(true))
    socket.on('connect', () => {
      socket.write(o.head)
      send()
    })
  })

/** A chunk of `size` bytes of JSON whitespace in chunked framing: valid as the start of any JSON body. */
export const whitespaceChunk = (size: number): Buffer => Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), Buffer.alloc(size, 0x20), Buffer.from('\r\n')])
