/**
 * @module no-store
 * Answers about credentials (the token, session and release routes) are never stored by a cache, whatever they say:
 * success, failure, 405, OPTIONS. One middleware, used by the standalone app and the embedded Web API alike.
 */
import type { Middleware } from 'koa'

export const noStore = (paths: Iterable<string>): Middleware => {
  const set = new Set(paths)
  return async (ctx, next) => {
    if (set.has(ctx.path)) ctx.set('Cache-Control', 'no-store')
    await next()
  }
}
