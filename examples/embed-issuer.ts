/**
 * The issuer embedded in a host's own Koa app, from `consumer-auth`: the token route, the session route and the JWKS
 * answered under the host's prefix, after the host's own middleware; every other request stays the host's. The host
 * decides the client address (its `proxy` setting); the lock-out counts failures against it.
 */
import Koa from 'koa'
import { createConsumerAuth, type ConsumerAuth } from 'consumer-auth'

export const embedIssuer = async (db = 'memory:'): Promise<{ app: Koa; auth: ConsumerAuth }> => {
  const auth = await createConsumerAuth({ db, basePath: '/accounts/crmapi/rest/v2', demo: true, logLevel: 'warn' })
  const app = new Koa({ proxy: false })
  app.use(async (ctx, next) => {
    ctx.set('X-Served-By', 'accounts')
    await next()
  })
  app.use(auth.middleware())
  app.use((ctx) => {
    ctx.body = { host: 'accounts', path: ctx.path }
  })
  return { app, auth }
}
