/**
 * @module request-log
 * A request id per request (X-Request-Id accepted when sane, else generated; echoed back) and one log line per
 * response: method, path, status, duration, the failure's name, and for a store failure its cause (as `err`, which
 * the logger serializes safely). Never the query string, headers or body, where keys, codes, pass codes and tokens
 * travel; of the path at most MAX_ECHOED characters, so that a line stays small whatever the client sent. The edge
 * (edge.ts) assigns the id when a request arrives and writes the line when its answer is decided.
 */
import { randomUUID } from 'node:crypto'
import type { Context } from 'koa'
import { MAX_PARAMETER_LENGTH } from '../../core/index.js'
import type { FailureState } from './respond.js'

export interface RequestLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  /**
   * Optional: what `info(obj, msg)` writes, for the object whose fields `fields` is the JSON text of (`"a":1,"b":"x"`,
   * no braces), fields that need no redaction or serializer. The service's logger has it (composition/logger.ts):
   * the request line, once per request, is then written without pino's per-call work.
   */
  infoFields?(fields: string, msg: string): void
}

export interface RequestIdState {
  requestId?: string
}

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/

/**
 * At most this much of a request-derived text (a path) goes into a log line or an answer: as much as the Web API
 * takes in any parameter, the core's one bound.
 */
const MAX_ECHOED = MAX_PARAMETER_LENGTH

/** The text cut to MAX_ECHOED characters, with an ellipsis when it was cut. */
export const bounded = (text: string): string => (text.length > MAX_ECHOED ? `${text.slice(0, MAX_ECHOED)}…` : text)

/** The request path as a log line carries it: bounded, and its full length beside it when it was cut. */
export const loggedPath = (path: string): { path: string; pathLength?: number } =>
  path.length > MAX_ECHOED ? { path: bounded(path), pathLength: path.length } : { path }

/** The request's id, X-Request-Id when it is sane, else a new one: kept on the state and echoed back. */
export const assignRequestId = (ctx: Context): string => {
  const given = ctx.req.headers['x-request-id']
  const requestId = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID()
  ;(ctx.state as RequestIdState).requestId = requestId
  ctx.res.setHeader('X-Request-Id', requestId)
  return requestId
}

/**
 * The fields of the line as JSON text, in the order of the object below. The id is SANE_ID or a UUID, the method
 * one of node:http's known methods and the failure's name an ErrorName: none needs escaping; the path may.
 */
const fieldsOf = (requestId: string, method: string, path: string, status: number, ms: number, error: string | undefined): string => {
  let fields = `"reqId":"${requestId}","method":"${method}","path":${JSON.stringify(bounded(path))}`
  if (path.length > MAX_ECHOED) fields += `,"pathLength":${path.length}`
  fields += `,"status":${status},"ms":${ms}`
  return error === undefined ? fields : `${fields},"error":"${error}"`
}

/** The one line of a request whose answer is decided, `ms` after it arrived. */
export const logRequest = (log: RequestLogger, ctx: Context, requestId: string, ms: number): void => {
  const failure = (ctx.state as FailureState).failure
  const path = ctx.path
  const status = ctx.status
  // The common line (no store failure's cause to serialize, not a 5xx) as text, when the logger takes it.
  if (log.infoFields !== undefined && status < 500 && failure?.cause === undefined) {
    return log.infoFields(fieldsOf(requestId, ctx.method, path, status, ms, failure?.name), 'request')
  }
  // Built field by field, in the order the line has always had: no intermediate objects to spread.
  const line: Record<string, unknown> = {
    reqId: requestId,
    // The method is one of node:http's known methods (its parser refuses any other), the id is SANE_ID.
    method: ctx.method,
    path: bounded(path),
  }
  if (path.length > MAX_ECHOED) line.pathLength = path.length
  line.status = status
  line.ms = ms
  if (failure) {
    line.error = failure.name
    // Why the store failed is what an operator needs for a 503; the client was told nothing of it.
    if (failure.cause !== undefined) line.err = failure.cause
  }
  if (status >= 500) log.warn(line, 'request failed')
  else log.info(line, 'request')
}
