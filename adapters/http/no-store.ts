/**
 * @module no-store
 * Answers about credentials (the token, session and release routes) are never stored by a cache, whatever they say:
 * success, failure, 405, OPTIONS. One middleware, used by the standalone app and the embedded Web API alike.
 */
import type { Middleware } from 'koa'

export const noStore = (paths: Iterable<string>): Middleware => {
  const set = new Set(paths)
  // Not async: a header set, then the rest of the chain's own promise (no promise of its own per request).
  return (ctx, next) => {
    if (set.has(ctx.path)) ctx.set('Cache-Control', 'no-store')
    return next()
  }
}
