/**
 * @module edge
 * What every request of the standalone app and of the operations app goes through before its route, as one
 * middleware: the request id (request-log.ts), the Host check (protocol-errors.ts), the error guard
 * (errors-middleware.ts: 404, 405, INTERNALERROR); and once the answer is decided, the metrics observer, the request's
 * log line and the close of a connection whose body was not read (unread-body.ts). They were five middlewares, each
 * with its own promise and dispatch per request, and the log and the metrics each timed the request; here one
 * function does them in the same order, with one clock reading at each end.
 */
import type { Middleware } from 'koa'
import type { HttpStatusMode } from './envelope.js'
import { answerInternalError, answerUnrouted, type ErrorLogger } from './errors-middleware.js'
import type { RequestObserver } from './metrics.js'
import { refusedWithoutHost } from './protocol-errors.js'
import { assignRequestId, logRequest, type RequestLogger } from './request-log.js'
import { closeIfBodyUnread } from './unread-body.js'

export interface EdgeDeps {
  readonly log: RequestLogger & ErrorLogger
  readonly httpStatus: HttpStatusMode
  /** Sees every request once its final status is known (404s, 405s and escaped exceptions too): the metrics. */
  readonly observer?: RequestObserver
  /** A middleware that sees the same (the older form of an observer), run inside the request log, outside the guard. */
  readonly observe?: Middleware
}

export const edge = (deps: EdgeDeps): Middleware => {
  const { log, httpStatus: mode, observer, observe } = deps
  /** The Host check, then the routes behind the error guard. */
  const guarded = async (ctx: Parameters<Middleware>[0], next: () => Promise<unknown>): Promise<void> => {
    if (refusedWithoutHost(ctx)) return
    try {
      await next()
      answerUnrouted(ctx, mode)
    } catch (err) {
      answerInternalError(ctx, err, mode, log)
    }
  }
  return async (ctx, next) => {
    const started = process.hrtime.bigint()
    const requestId = assignRequestId(ctx)
    try {
      await (observe ? observe(ctx, () => guarded(ctx, next)) : guarded(ctx, next))
    } finally {
      const ns = Number(process.hrtime.bigint() - started)
      try {
        observer?.(ctx, ns / 1e9)
        logRequest(log, ctx, requestId, ns / 1e6)
      } finally {
        const closing = closeIfBodyUnread(ctx)
        if (closing) await closing
      }
    }
  }
}
