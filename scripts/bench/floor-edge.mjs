// What the floors of a conforming implementation do around their route on every request (F+ in floor-koa.mjs, the
// session route's floor in verify-koa.mjs), each the cheapest way this project knows: a request id (randomUUID,
// echoed as X-Request-Id), Cache-Control: no-store, then once the route has answered, one observation of the latency
// histogram (prom-client, the service's labels) and the request line with the id and the duration, through the
// service's logger (its request line is pre-serialized fields, cheaper than pino's info(object)) and its default
// destination, to /dev/null. `counted(ctx)` adds the route's own counters.
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { Histogram, Registry } from 'prom-client'
import { ROOT } from '../support.mjs'

const { logDestination } = await import(join(ROOT, 'dist/composition/log-destination.js'))
const { createLogger } = await import(join(ROOT, 'dist/composition/logger.js'))

/** A Koa middleware doing the above around `next`; `registers` is where the histogram (and the caller's counters) go. */
export const floorEdge = (route, registers = [new Registry()], counted = () => undefined) => {
  const log = createLogger('info', logDestination('/dev/null'))
  const duration = new Histogram({ name: 'request_duration_seconds', help: 'Request duration', labelNames: ['route', 'method', 'status'], registers })
  return async (ctx, next) => {
    const started = process.hrtime.bigint()
    const reqId = randomUUID()
    ctx.set('X-Request-Id', reqId)
    ctx.set('Cache-Control', 'no-store')
    await next()
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    counted(ctx)
    duration.observe({ route, method: ctx.method, status: ctx.status }, ms / 1e3)
    log.infoFields(`"reqId":"${reqId}","method":"${ctx.method}","path":${JSON.stringify(ctx.path)},"status":${ctx.status},"ms":${ms}`, 'request')
  }
}
