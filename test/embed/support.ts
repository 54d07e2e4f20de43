/**
 * A host app for the embedded issuer's tests: a Koa app of its own with its own middleware and routes under its own
 * prefix, createConsumerAuth's middleware mounted after them, and its own fallback after that; listening on a free
 * loopback port.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Router } from '@koa/router'
import Koa, { type Middleware } from 'koa'
import { createConsumerAuth, type ConsumerAuth, type ConsumerAuthOptions } from '../../composition/consumer-auth.js'
import type { RawResponse } from '../support/service.js'

/** The host's own prefix: its routes and, as the issuer's base path, consumer-auth's. */
export const HOST_PREFIX = '/accounts'
const EMBEDDED_BASE = `${HOST_PREFIX}/crmapi/rest/v2`

export interface Host {
  readonly url: string
  readonly basePath: string
  readonly auth: ConsumerAuth
  /** Requests the host's own first middleware saw (all of them, ours included). */
  readonly seen: string[]
  stop(): Promise<void>
}

export const startHost = async (options: Partial<ConsumerAuthOptions> & Pick<ConsumerAuthOptions, 'db'>, hostOptions: { proxy?: boolean; before?: Middleware } = {}): Promise<Host> => {
  const auth = await createConsumerAuth({ basePath: EMBEDDED_BASE, logLevel: 'silent', ...options })
  const app = new Koa({ proxy: hostOptions.proxy ?? false, maxIpsCount: 1 })
  const seen: string[] = []
  app.use(async (ctx, next) => {
    seen.push(`${ctx.method} ${ctx.path}`)
    ctx.set('X-Host', 'accounts')
    await next()
  })
  const router = new Router({ prefix: HOST_PREFIX })
  router.get('/ping', (ctx) => {
    ctx.body = { host: 'pong' }
  })
  app.use(router.routes())
  if (hostOptions.before) app.use(hostOptions.before)
  app.use(auth.middleware())
  app.use((ctx) => {
    ctx.status = 404
    ctx.body = { host: 'not found', path: ctx.path }
  })
  const server: Server = createServer(app.callback())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    basePath: EMBEDDED_BASE,
    auth,
    seen,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await auth.close()
    },
  }
}

/** What must be the same between the standalone service and the embedded issuer (paths as relative to the base). */
export const comparable = (r: RawResponse, basePath: string) => ({
  status: r.status,
  code: r.json?.status?.code,
  message: String(r.json?.status?.message ?? '').split(basePath).join('{base}'),
  data: r.json?.data === null ? null : Object.keys(r.json?.data ?? {}),
  headers: Object.fromEntries(['content-type', 'www-authenticate', 'allow', 'cache-control'].map((h) => [h, r.headers[h]])),
})
