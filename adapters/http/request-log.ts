/**
 * @module request-log
 * A request id per request (X-Request-Id accepted when sane, else generated; echoed back) and one log line per
 * response: method, path, status, duration, the failure's name, and for a store failure its cause (as `err`, which
 * the logger serializes safely). Never the query string, headers or body, where keys, codes, pass codes and tokens
 * travel; of the path at most MAX_ECHOED characters, so that a line stays small whatever the client sent.
 */
import { randomUUID } from 'node:crypto'
import type { Middleware } from 'koa'
import { MAX_PARAMETER_LENGTH } from '../../core/index.js'
import type { FailureState } from './respond.js'

export interface RequestLogger {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
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

export const requestLog = (log: RequestLogger): Middleware => async (ctx, next) => {
  const started = process.hrtime.bigint()
  const given = ctx.get('x-request-id')
  const requestId = SANE_ID.test(given) ? given : randomUUID()
  ;(ctx.state as RequestIdState).requestId = requestId
  ctx.set('X-Request-Id', requestId)
  try {
    await next()
  } finally {
    const failure = (ctx.state as FailureState).failure
    const line = {
      reqId: requestId,
      // The method is one of node:http's known methods (its parser refuses any other), the id is SANE_ID.
      method: ctx.method,
      ...loggedPath(ctx.path),
      status: ctx.status,
      ms: Number(process.hrtime.bigint() - started) / 1e6,
      ...(failure ? { error: failure.name } : {}),
      // Why the store failed is what an operator needs for a 503; the client was told nothing of it.
      ...(failure?.cause !== undefined ? { err: failure.cause } : {}),
    }
    if (ctx.status >= 500) log.warn(line, 'request failed')
    else log.info(line, 'request')
  }
}
