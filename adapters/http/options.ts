/**
 * @module options
 * OPTIONS on a route: 200 with the OK envelope, `{"data":{"allow":[...]}}`, and the `Allow` header naming the
 * route's methods (docs/decisions.md). On no route the request goes on, to the 404 envelope. A CORS layer answering
 * preflights for its configured origins sits in front of this middleware; what it lets through ends here.
 *
 * A route may exist only while something holds (the JWKS, while the ring has an asymmetric key: it follows the ring
 * through reloads, so it stays registered). While it is absent its GET answers 404, and OPTIONS must agree: such a
 * route is registered with `whilePresent`, and OPTIONS then answers as on no route.
 */
import type { Router } from '@koa/router'
import type { Middleware } from 'koa'
import { sendOk } from './respond.js'

const conditions = new WeakMap<Router, Map<string, () => boolean>>()

/** Marks the route at `path` of `router` as present only while `present()` answers true (see above). */
export const whilePresent = (router: Router, path: string, present: () => boolean): void => {
  const own = conditions.get(router) ?? new Map<string, () => boolean>()
  conditions.set(router, own.set(path, present))
}

export const answerOptions = (router: Router): Middleware => (ctx, next) => {
  // Not async: every other method goes on with no promise of this middleware's own.
  if (ctx.method !== 'OPTIONS') return next()
  const present = (path: string) => conditions.get(router)?.get(path)?.() ?? true
  const matched = router.match(ctx.path, 'OPTIONS').path.filter((layer) => layer.methods.length > 0)
  const allow = [...new Set(matched.filter((layer) => present(String(layer.path))).flatMap((layer) => layer.methods))]
  if (matched.length === 0) return next()
  // A route that is absent now answers as its GET does (404, and the envelope), not with the router's own Allow.
  if (allow.length === 0) return void (ctx.status = 404)
  ctx.set('Allow', allow.join(', '))
  sendOk(ctx, { allow })
  return Promise.resolve()
}
