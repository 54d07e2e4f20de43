/**
 * @module options
 * OPTIONS on a route: 200 with the OK envelope, `{"data":{"allow":[...]}}`, and the `Allow` header naming the
 * route's methods (docs/decisions.md). On no route the request goes on, to the 404 envelope. A CORS layer answering
 * preflights for its configured origins sits in front of this middleware; what it lets through ends here.
 */
import type { Router } from '@koa/router'
import type { Middleware } from 'koa'
import { sendOk } from './respond.js'

export const answerOptions = (router: Router): Middleware => (ctx, next) => {
  // Not async: every other method goes on with no promise of this middleware's own.
  if (ctx.method !== 'OPTIONS') return next()
  const allow = [...new Set(router.match(ctx.path, 'OPTIONS').path.flatMap((layer) => layer.methods))]
  if (allow.length === 0) return next()
  ctx.set('Allow', allow.join(', '))
  sendOk(ctx, { allow })
  return Promise.resolve()
}
