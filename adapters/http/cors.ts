/**
 * @module cors
 * CORS for browser portals (@koa/cors): only the token, session and release routes, only for the configured origins.
 * A request from another origin, or to another path, passes through untouched: no CORS header, and its preflight is
 * answered as any OPTIONS request is. No credentials mode: the routes take the key and the token in headers the
 * page sets itself, never cookies. Why this is safe enough, and what it asks of codes: docs/security.md.
 */
import cors from '@koa/cors'
import type { Middleware } from 'koa'

/** How long a browser may keep a preflight's answer (seconds). */
const CORS_MAX_AGE_SECONDS = 600

export const corsFor = (paths: ReadonlyArray<string>, origins: ReadonlyArray<string>): Middleware | undefined => {
  if (origins.length === 0) return undefined
  const allowed = new Set(origins)
  const onPaths = new Set(paths)
  const answer = cors({
    origin: (ctx) => {
      const origin = ctx.get('Origin')
      return allowed.has(origin) ? origin : ''
    },
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['Authorization', 'Content-Type'],
    exposeHeaders: ['Retry-After', 'WWW-Authenticate', 'X-Request-Id'],
    maxAge: CORS_MAX_AGE_SECONDS,
  })
  return (ctx, next) => (onPaths.has(ctx.path) ? answer(ctx, next) : next())
}
