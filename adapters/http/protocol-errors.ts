/**
 * @module protocol-errors
 * node:http's own answers, in the envelope: a request its parser refuses (400), a head or a request not received in
 * time (408), a header section or chunk extensions too large (431, 413), an `Expect` it cannot meet (417), an
 * HTTP/1.1 request without Host (400). node:http would answer these with empty bodies; every answer is the CRM.COM
 * envelope here. They keep the protocol's status in
 * both HTTP_STATUS modes and close the connection (docs/decisions.md).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Context } from 'koa'
import { authError, type AuthError } from '../../core/index.js'
import { lingeringClose, lingerWhenClosed } from './closing.js'
import { errorEnvelope } from './envelope.js'
import { sendFailure } from './respond.js'

export interface ProtocolLimits {
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
}

export interface ProtocolErrorLogger {
  info(obj: object, msg: string): void
}

interface ProtocolFailure {
  readonly status: number
  readonly error: AuthError
}

/** node:http's parser errors carry llhttp's fixed `reason` (never request content) and an HPE_ code. */
type ClientError = Error & { code?: string; reason?: string }

const failureOf = (err: ClientError, limits: ProtocolLimits): ProtocolFailure => {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, error: authError('PAYLOADTOOLARGE', 'The request header section is too large (at most 16 KiB)') }
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, error: authError('PAYLOADTOOLARGE', 'The chunk extensions of the request body are too large') }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        error: authError('MALFORMEDREQUEST', `The request was not received in time: its head within ${limits.headersTimeoutMs / 1000} s, all of it within ${limits.requestTimeoutMs / 1000} s`),
      }
    default:
      return { status: 400, error: authError('MALFORMEDREQUEST', `The request is not valid HTTP/1.1${err.reason ? `: ${err.reason}` : ''}`) }
  }
}

const envelopeResponse = (f: ProtocolFailure): { head: Record<string, string>; body: string } => {
  const body = JSON.stringify(errorEnvelope(f.error))
  return {
    head: {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      'Cache-Control': 'no-store',
      Connection: 'close',
    },
    body,
  }
}

/** The 'clientError' listener of an http.Server: the envelope written on the socket, then a lingering close. */
export const answerClientError = (limits: ProtocolLimits, log: ProtocolErrorLogger) => (err: ClientError, socket: Duplex): void => {
  // A reset connection has no one to answer; an answer already begun on it cannot be followed by another.
  const begun = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true
  if (err.code === 'ECONNRESET' || !socket.writable || begun) {
    socket.destroy()
    return
  }
  const failure = failureOf(err, limits)
  log.info({ status: failure.status, error: failure.error.name, reason: err.code }, 'request refused by the HTTP parser')
  const { head, body } = envelopeResponse(failure)
  const lines = Object.entries(head).map(([name, value]) => `${name}: ${value}\r\n`).join('')
  lingeringClose(socket, `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status]}\r\n${lines}\r\n${body}`)
}

/** The 'checkExpectation' listener: node:http would answer an Expect other than 100-continue with an empty 417. */
export const answerUnmetExpectation = (log: ProtocolErrorLogger) => (req: IncomingMessage, res: ServerResponse): void => {
  const failure: ProtocolFailure = { status: 417, error: authError('MALFORMEDREQUEST', 'The Expect header can only be 100-continue') }
  log.info({ status: failure.status, error: failure.error.name, reason: 'Expect' }, 'request refused by the HTTP parser')
  const { head, body } = envelopeResponse(failure)
  lingerWhenClosed(req.socket)
  res.writeHead(failure.status, head).end(body)
}

/**
 * node:http answers an HTTP/1.1 request without Host with an empty 400 (its `requireHostHeader`, turned off in
 * composition/server.ts so that the request reaches the edge, edge.ts): the same refusal, in the envelope, logged.
 * Answers whether the request was refused so.
 */
export const refusedWithoutHost = (ctx: Context): boolean => {
  if (ctx.req.httpVersion !== '1.1' || ctx.req.headers.host !== undefined) return false
  sendFailure(ctx, authError('MALFORMEDREQUEST', 'An HTTP/1.1 request needs a Host header'), 'standard')
  ctx.set('Connection', 'close')
  return true
}
