/**
 * @module modules/http
 * The HTTP family: the standalone Koa app, the Web API as one middleware for a host's app, and the session verifier
 * createConsumerAuth hands out. Koa and the routes are imported when first resolved, so that the CLI never loads them.
 */
import { serviceModule } from '../binder.js'
import { TYPES } from '../services.js'

export const httpModule = serviceModule((b) => {
  b.async(TYPES.HttpApp, async (r) => {
    const config = r.get(TYPES.Config)
    const webApi = await r.getAsync(TYPES.WebApi)
    const metrics = await r.getAsync(TYPES.Metrics)
    const { createHttpApp } = await import('../../adapters/http/app.js')
    return createHttpApp({
      ...webApi,
      basePath: config.basePath,
      release: config.release,
      httpStatus: config.httpStatus,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      log: r.get(TYPES.Logger),
      observe: metrics.observe,
      ...(await r.getAsync(TYPES.OperationsRoutes)),
      operationsElsewhere: config.opsPort !== undefined,
    })
  })
  b.async(TYPES.EmbeddedMiddleware, async (r) => {
    const config = r.get(TYPES.Config)
    const { embeddedWebApi } = await import('../../adapters/http/embedded.js')
    return embeddedWebApi({
      ...(await r.getAsync(TYPES.WebApi)),
      basePath: config.basePath,
      release: config.release,
      httpStatus: config.httpStatus,
      log: r.get(TYPES.Logger),
    })
  })
  b.async(TYPES.SessionVerifier, async (r) => {
    const config = r.get(TYPES.Config)
    const { createSessionVerifier } = await import('../../adapters/embed/session-verifier.js')
    return createSessionVerifier({
      // A secrets file is read again by the verifier's reload(); other secrets are the ones the service loaded.
      ...(config.secretsFile !== undefined ? { secretsFile: config.secretsFile } : { secrets: await r.getAsync(TYPES.Secrets) }),
      clock: r.get(TYPES.Clock),
      revocation: await r.getAsync(TYPES.ServiceStore),
      revocationCacheSeconds: config.revocationCacheSeconds,
      httpStatus: config.httpStatus,
    })
  })
})
