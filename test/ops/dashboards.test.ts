/**
 * What tools check, against the real service: every query of the Grafana dashboard and every expression of the
 * alerting rules names a metric a real /metrics scrape holds (and only labels it carries); `promtool check rules`
 * accepts docs/dashboards/alerts.yml; `promtool check metrics` accepts the scrape (process metrics included);
 * Redocly's recommended rules find no error in /openapi.json (in the shapes of a deployment), and warn only that the
 * health, metrics and document routes have no 4xx answer, which they have not.
 *
 * promtool comes with Debian's `prometheus` package (.ci/run installs it); without it these checks fail under CI and
 * are skipped with a warning elsewhere. Redocly runs with its telemetry and update check off: no traffic leaves.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from '../support/built-cli.js'
import { postToken, rawRequest, startTestService, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'

const DASHBOARD = join(ROOT, 'docs', 'dashboards', 'consumer-auth.json')
const ALERTS = join(ROOT, 'docs', 'dashboards', 'alerts.yml')

const havePromtool = spawnSync('promtool', ['--version']).status === 0
if (!havePromtool && !process.env['CI']) console.warn('\n#### SKIPPED: promtool checks (install Debian\'s prometheus package) ####\n')
const promtoolIt = havePromtool || process.env['CI'] ? it : it.skip

/** Metric names in a PromQL text: ours, the process's and Prometheus's own `up`. */
const metricNames = (promql: string): string[] => [...promql.matchAll(/\b((?:consumer_auth|nodejs|process)_[a-z0-9_]+|up)\b(?=\s*[{[),\s]|$)/g)].map((m) => m[1]!)
/** Label names a PromQL text relies on: `by (...)` lists and selector matchers. */
const labelNames = (promql: string): string[] => [
  ...[...promql.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim())),
  ...[...promql.matchAll(/[{,]\s*([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!),
]

/** Sample names and label names of an exposition text. */
const exposition = (text: string) => {
  const samples = new Set<string>()
  const labels = new Set<string>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?/.exec(line)
    if (!m) continue
    samples.add(m[1]!)
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_]+)="/g)) labels.add(l[1]!)
  }
  return { samples, labels }
}

/** Labels Prometheus adds to every series it scrapes. */
const TARGET_LABELS = ['job', 'instance']

describe('dashboards, alerts and metrics against a real scrape', () => {
  let svc: TestService
  let scrape: string
  beforeAll(async () => {
    svc = await startTestService()
    // One success, one failure: the histogram's series and the failure counters carry samples.
    expect((await postToken(svc.url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION })).status).toBe(200)
    expect((await postToken(svc.url, '{"unit":"1"}')).status).toBe(400)
    scrape = (await rawRequest(svc.url, { method: 'GET', path: '/metrics' })).text
  })
  afterAll(async () => svc?.stop())

  it('every dashboard query names metrics and labels the service exports', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }>; templating: { list: Array<{ query: unknown }> } }
    const { samples, labels } = exposition(scrape)
    const exprs = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t.expr] as const)),
      ...dashboard.templating.list.filter((v) => typeof v.query === 'string' && v.query.includes('(')).map((v) => ['variable', v.query as string] as const),
    ]
    expect(exprs.length).toBeGreaterThan(10)
    for (const [title, expr] of exprs) {
      const names = metricNames(expr)
      expect(names.length, `${title}: ${expr}`).toBeGreaterThan(0)
      for (const n of names) expect(samples.has(n), `${title}: ${n} is not in the scrape`).toBe(true)
      for (const l of labelNames(expr.replace(/\$\w+/g, 'x'))) expect(labels.has(l) || TARGET_LABELS.includes(l), `${title}: label ${l}`).toBe(true)
    }
    // What the dashboard is for: issuance by mode, failures by code, lock-outs, latency quantiles, store errors.
    const all = exprs.map(([, e]) => e).join('\n')
    for (const m of ['consumer_auth_tokens_issued_total', 'consumer_auth_failures_total', 'consumer_auth_lockouts_total', 'consumer_auth_http_request_duration_seconds_bucket', 'consumer_auth_store_errors_total', 'consumer_auth_ready']) {
      expect(all).toContain(m)
    }
  })

  it('every alert expression names metrics and labels the service exports (or `up`)', () => {
    const text = readFileSync(ALERTS, 'utf8')
    const exprs = [...text.matchAll(/expr: (?:\|\n((?: {10}.*\n)+)|(.*)\n)/g)].map((m) => (m[1] ?? m[2])!.trim())
    expect(exprs.length).toBeGreaterThanOrEqual(5)
    const { samples, labels } = exposition(scrape)
    for (const expr of exprs) {
      const names = metricNames(expr)
      expect(names.length, expr).toBeGreaterThan(0)
      for (const n of names) expect(n === 'up' || samples.has(n), `${n} is not in the scrape`).toBe(true)
      for (const l of labelNames(expr)) expect(labels.has(l) || TARGET_LABELS.includes(l), `label ${l} in ${expr}`).toBe(true)
    }
    for (const what of ['consumer_auth_lockouts_total', 'status=~"5.."', 'consumer_auth_ready']) expect(text).toContain(what)
  })

  promtoolIt('`promtool check rules` accepts the alerting rules', () => {
    const out = execFileSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' })
    expect(out).toMatch(/SUCCESS: \d+ rules found/)
  })

  promtoolIt('`promtool check metrics` accepts the scrape, process metrics included', () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: scrape, encoding: 'utf8' })
    expect(`${r.stdout}${r.stderr}`).toBe('')
    expect(r.status).toBe(0)
    expect(scrape).toContain('process_resident_memory_bytes')
    expect(scrape).toContain('nodejs_active_handles')
  })
})

describe("the OpenAPI document against Redocly's recommended rules", () => {
  const dir = mkdtempSync(join(tmpdir(), 'consumer-auth-redocly-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.each([
    ['the default', {}],
    ['envelope statuses, no base path', { 'http-status': 'envelope', 'base-path': '' }],
    ['R15.0.0', { release: 'R15.0.0' }],
  ])('%s: no error; the only warnings are the 4xx-less health, metrics and document routes', async (_name, flags: Record<string, string>) => {
    const svc = await startTestService(flags)
    let doc: string
    try {
      doc = (await rawRequest(svc.url, { method: 'GET', path: '/openapi.json' })).text
    } finally {
      await svc.stop()
    }
    const file = join(dir, `openapi-${Object.values(flags).join('-') || 'default'}.json`)
    writeFileSync(file, doc)
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js'), 'lint', file, '--extends', 'recommended', '--format', 'json'], {
      encoding: 'utf8', env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    })
    const report = JSON.parse(r.stdout) as { totals: { errors: number }; problems: Array<{ ruleId: string; severity: string; location: Array<{ pointer: string }> }> }
    expect(report.problems.filter((p) => p.severity === 'error')).toEqual([])
    expect(r.status).toBe(0)
    // With HTTP_STATUS=envelope every failure is a 200, by design (CRM.COM's clients read status.code): the Web API
    // operations then have no 4xx answer either.
    const envelopeOnly = flags['http-status'] === 'envelope'
      ? ['get', 'post', 'post'].map((m, i) => `operation-4xx-response #/paths/${['~1authentication~1consumer_application_key~1session', '~1authentication~1consumer_application_key~1token', '~1authentication~1token~1release'][i]}/${m}/responses`)
      : []
    expect(report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}`).sort()).toEqual([
      ...envelopeOnly,
      'operation-4xx-response #/paths/~1health~1live/get/responses',
      'operation-4xx-response #/paths/~1health~1ready/get/responses',
      'operation-4xx-response #/paths/~1metrics/get/responses',
      'operation-4xx-response #/paths/~1openapi.json/get/responses',
    ])
    const parsed = JSON.parse(doc)
    expect(parsed.servers).toEqual([expect.objectContaining({ url: '/' })])
    for (const path of ['/health/live', '/metrics', '/openapi.json', '/.well-known/jwks.json']) expect(parsed.paths[path].get.security, path).toEqual([])
  }, 60_000)
})
