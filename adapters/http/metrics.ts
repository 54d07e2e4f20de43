/**
 * @module metrics
 * Prometheus metrics (docs/operations.md, docs/configuration.md) at `/metrics`: tokens issued by mode, failures by error, lock-outs, store errors, a
 * request-duration histogram, and prom-client's process metrics. One Registry per app instance, never prom-client's
 * global one, so that several apps in one process (tests, embedding) keep separate counts.
 *
 * The hot path stays cheap: every labelled child that can be known up front (modes, error names, lock-out subjects)
 * is created here, once; the histogram's children are cached by their label values on first use.
 */
import type { Router } from '@koa/router'
import type { Context, Middleware } from 'koa'
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import {
  credentialModes, errorCode, errorNames, type AttemptSubject, type AuditLog, type CredentialMode, type ErrorName,
} from '../../core/index.js'
import type { FailureState } from './respond.js'
import type { IssuedState } from './token-route.js'

export const METRICS_PATH = '/metrics'

export interface MetricsOptions {
  /** prom-client's default process metrics (CPU, memory, event loop, GC); default true. */
  readonly processMetrics?: boolean
}

/** Counts a request whose answer is decided, `seconds` after it arrived (the edge calls it: edge.ts). */
export type RequestObserver = (ctx: Context, seconds: number) => void

export interface Metrics {
  readonly registry: Registry
  /** Counts every request; the app's edge calls it once the final status is known (404s, 405s, exceptions too). */
  readonly observeRequest: RequestObserver
  /** The same as a middleware that times what it wraps; mount it outside the error guard so it sees final statuses. */
  readonly observe: Middleware
  /** Mounts GET /metrics (Prometheus text format). */
  route(router: Router): void
  /**
   * Wraps the audit port so that a subject becoming locked out is counted as it happens. A 429 answered to a subject
   * that is already locked is not a lock-out; those are counted apart, as locked-out requests.
   */
  auditing(audit: AuditLog): AuditLog
  /** Registers `consumer_auth_ready`: 1 when `ready` answers true at scrape time (the readiness check), else 0. */
  watchReadiness(ready: () => Promise<boolean>): void
}

/** prom-client's default gauges whose names end in `_total`, which only counters may (left out, see createMetrics). */
export const NON_COUNTERS_NAMED_TOTAL = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']

/** Seconds: token requests hash pass codes (scrypt, tens of ms) and may wait on a store (bounded at a few s). */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** What @koa/router leaves on the context: the matched route's pattern, or the layers matching the path (405). */
interface RoutedContext {
  _matchedRoute?: string | RegExp
  matched?: ReadonlyArray<{ path: string | RegExp; methods: ReadonlyArray<string> }>
}

/** A route pattern, never the raw path: raw paths would give the histogram one series per URL anyone sends. */
const routeLabel = (ctx: RoutedContext): string => {
  const route = ctx._matchedRoute ?? ctx.matched?.find((l) => l.methods.length > 0)?.path
  return route === undefined ? 'unmatched' : String(route)
}

export const createMetrics = (options: MetricsOptions = {}): Metrics => {
  const registry = new Registry()
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry })
    // Gauges named like counters break the exposition conventions (`promtool check metrics`); each is the sum of the
    // by-type gauge of the same name without `_total` (nodejs_active_handles{type}, ...), so nothing is lost.
    for (const name of NON_COUNTERS_NAMED_TOTAL) registry.removeSingleMetric(name)
  }
  const registers = [registry]

  const issued = new Counter({
    name: 'consumer_auth_tokens_issued_total',
    help: 'Session tokens issued, by credential mode',
    labelNames: ['mode'] as const,
    registers,
  })
  const failures = new Counter({
    name: 'consumer_auth_failures_total',
    help: 'Failed requests, by error name and envelope code (docs/behaviour.md, the errors)',
    labelNames: ['name', 'code'] as const,
    registers,
  })
  const lockouts = new Counter({
    name: 'consumer_auth_lockouts_total',
    help: 'Subjects that became locked out (identifier, key or client address reaching its threshold)',
    labelNames: ['subject'] as const,
    registers,
  })
  const lockedOutRequests = new Counter({
    name: 'consumer_auth_locked_out_requests_total',
    help: 'Requests refused with TOOMANYATTEMPTS because their subject was locked out',
    registers,
  })
  const releases = new Counter({
    name: 'consumer_auth_sessions_released_total',
    help: 'Sessions released (logged out) through the release route',
    registers,
  })
  const storeErrors = new Counter({
    name: 'consumer_auth_store_errors_total',
    help: 'Requests answered SERVICEUNAVAILABLE because the store failed or did not answer in time',
    registers,
  })
  const duration = new Histogram({
    name: 'consumer_auth_http_request_duration_seconds',
    help: 'Time from receiving a request to its response, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  })

  // Children created once (label validation done here, not per request), and set to 0 so that every series exists
  // from the start: rate() and alerts need the zero before the first increment.
  const child = <L extends string>(c: Counter<L>, ...values: string[]): Counter.Internal => {
    const internal = c.labels(...values)
    internal.inc(0)
    return internal
  }
  const issuedBy = new Map<CredentialMode, Counter.Internal>(credentialModes.map((m) => [m, child(issued, m)]))
  const failedBy = new Map<ErrorName, Counter.Internal>(errorNames.map((n) => [n, child(failures, n, errorCode(n))]))
  const lockedBy: Record<AttemptSubject['kind'], Counter.Internal> = {
    identifier: child(lockouts, 'identifier'),
    key: child(lockouts, 'key'),
    address: child(lockouts, 'address'),
  }
  const durationBy = new Map<string, Histogram.Internal<'route' | 'method' | 'status'>>()

  const observeRequest: RequestObserver = (ctx, seconds) => {
    const route = routeLabel(ctx as unknown as RoutedContext)
    const status = ctx.status
    const key = `${route} ${ctx.method} ${status}`
    let child = durationBy.get(key)
    if (child === undefined) {
      child = duration.labels(route, ctx.method, String(status))
      durationBy.set(key, child)
    }
    child.observe(seconds)

    const mode = (ctx.state as IssuedState).issued?.mode
    if (mode !== undefined) issuedBy.get(mode)?.inc()
    const failure = (ctx.state as FailureState).failure?.name
    if (failure !== undefined) {
      failedBy.get(failure)?.inc()
      if (failure === 'TOOMANYATTEMPTS') lockedOutRequests.inc()
      else if (failure === 'SERVICEUNAVAILABLE') storeErrors.inc()
    }
  }

  const observe: Middleware = async (ctx, next) => {
    const started = process.hrtime.bigint()
    try {
      await next()
    } finally {
      observeRequest(ctx, Number(process.hrtime.bigint() - started) / 1e9)
    }
  }

  const route = (router: Router): void => {
    router.get(METRICS_PATH, async (ctx) => {
      const text = await registry.metrics()
      ctx.status = 200
      ctx.body = text
      ctx.set('Content-Type', registry.contentType)
      ctx.set('Cache-Control', 'no-store')
    })
  }

  const auditing = (audit: AuditLog): AuditLog => ({
    record: (event) => {
      // Counted before the write: the lock-out has happened (its counter is in the store) even if the audit fails.
      if (event.type === 'locked_out') lockedBy[event.subject.kind].inc()
      const recorded = audit.record(event)
      // A release is counted once it is recorded: unlike a lock-out, it has not happened if its write failed.
      return event.type === 'released' ? recorded.then(() => releases.inc()) : recorded
    },
  })

  const watchReadiness = (ready: () => Promise<boolean>): void => {
    new Gauge({
      name: 'consumer_auth_ready',
      help: 'Whether the store was reachable and migrated when scraped (1) or not (0): what /health/ready answers',
      registers,
      async collect() {
        this.set((await ready().catch(() => false)) ? 1 : 0)
      },
    })
  }

  return { registry, observeRequest, observe, route, auditing, watchReadiness }
}
