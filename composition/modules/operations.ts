/**
 * @module modules/operations
 * The operations and metrics family: the metrics registry, health and the OpenAPI document (on the main app, or
 * with OPS_PORT on an app of their own), and the storage pruning job (old audit events, expired attempt counters)
 * that `serve` and createConsumerAuth run beside the service.
 */
import { startStoragePruner } from '../../adapters/store/storage-pruner.js'
import { storeReadiness } from '../../adapters/store/store-readiness.js'
import type { Router } from '@koa/router'
import { packageVersion } from '../version.js'
import { serviceModule } from '../binder.js'
import { TYPES } from '../services.js'

/** /health/ready answers within this time even when the store hangs (docs/behaviour.md, the storage rules: no hung requests). */
export const READY_TIMEOUT_MS = 2_000

export const operationsModule = serviceModule((b) => {
  b.async(TYPES.Metrics, async () => (await import('../../adapters/http/metrics.js')).createMetrics())
  b.async(TYPES.OperationsRoutes, async (r) => {
    const config = r.get(TYPES.Config)
    const store = await r.getAsync(TYPES.ServiceStore)
    const metrics = await r.getAsync(TYPES.Metrics)
    const { openApiDocument, serveOpenApi } = await import('../../adapters/http/openapi.js')
    const openapi = openApiDocument({
      basePath: config.basePath, release: config.release, jwks: true, httpStatus: config.httpStatus, version: packageVersion(),
    })
    const ready = storeReadiness(store, { timeoutMs: READY_TIMEOUT_MS })
    metrics.watchReadiness(ready)
    return {
      ready,
      extraRoutes: (router: Router) => {
        metrics.route(router)
        serveOpenApi(router, openapi)
      },
    }
  })
  b.async(TYPES.OpsApp, async (r) => {
    const config = r.get(TYPES.Config)
    if (config.opsPort === undefined) return null
    const { createOperationsApp } = await import('../../adapters/http/ops-routes.js')
    return createOperationsApp({ ...(await r.getAsync(TYPES.OperationsRoutes)), httpStatus: config.httpStatus, log: r.get(TYPES.Logger) })
  })
  b.value(TYPES.PruningSchedule, {})
  // Its runs are logged, its failures tried again on the next run.
  b.async(TYPES.Pruner, async (r) => {
    const config = r.get(TYPES.Config)
    const log = r.get(TYPES.Logger)
    const { intervalMs } = r.get(TYPES.PruningSchedule)
    return startStoragePruner(await r.getAsync(TYPES.ServiceStore), {
      retentionDays: config.auditRetentionDays,
      lockoutWindowSeconds: config.lockoutWindowSeconds,
      clock: r.get(TYPES.Clock),
      ...(intervalMs === undefined ? {} : { intervalMs }),
      onRun: (outcome) =>
        'error' in outcome
          ? log.warn({ err: outcome.error }, 'storage pruning failed; the next run tries again')
          : log.info(outcome, 'storage pruned'),
    })
  })
})
