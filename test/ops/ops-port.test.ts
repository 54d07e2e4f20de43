/**
 * OPS_PORT: /metrics, /health/* and /openapi.json on a listener of their own. With it set they answer there and not
 * on the main port (404 there, as any unknown path), while the Web API and the JWKS stay on the main port only;
 * without it (the default) everything is on the main port. Also as a `serve` child process, with its log line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawRequest, startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'
import { ensureBuilt, request, startServe, type ServeProcess } from '../postgres/processes.js'
import { tempDir } from './child.js'

const OPS_PATHS = ['/metrics', '/health/live', '/health/ready', '/openapi.json']
const get = (url: string, path: string) => rawRequest(url, { method: 'GET', path })

describe('OPS_PORT set', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService({ 'ops-port': '0' })
  })
  afterAll(async () => svc?.stop())

  it('serves metrics, health and the OpenAPI document on the operations port, and not on the main port', async () => {
    expect(svc.ops?.port).toBeGreaterThan(0)
    expect(svc.ops?.port).not.toBe(svc.port)
    for (const path of OPS_PATHS) {
      expect((await get(svc.ops!.url, path)).status, path).toBe(200)
      const main = await get(svc.url, path)
      expect(main.status, path).toBe(404)
      expect(main.json.status.description).toBe('METHODNOTAVAILABLE')
    }
    expect((await get(svc.ops!.url, '/metrics')).text).toContain('consumer_auth_tokens_issued_total')
  })

  it('keeps the Web API on the main port only; the metrics count its requests', async () => {
    const token = await rawRequest(svc.url, { path: TOKEN_ROUTE, headers: { authorization: EXAMPLE_AUTHORIZATION, 'content-type': 'application/json' }, body: EXAMPLE_BODY })
    expect(token.status).toBe(200)
    expect((await rawRequest(svc.ops!.url, { path: TOKEN_ROUTE, headers: { 'content-type': 'application/json' }, body: EXAMPLE_BODY })).status).toBe(404)
    expect((await get(svc.ops!.url, '/.well-known/jwks.json')).status).toBe(404)
    expect((await get(svc.ops!.url, '/metrics')).text).toMatch(/consumer_auth_tokens_issued_total\{mode="AuthenticationCode"\} [1-9]/)
  })

  it('answers hundreds of concurrent scrapes and probes', async () => {
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => get(svc.ops!.url, OPS_PATHS[i % OPS_PATHS.length]!)))
    expect(answers.every((a) => a.status === 200)).toBe(true)
  })
})

describe('OPS_PORT unset (the default)', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(async () => svc?.stop())

  it('serves metrics, health and OpenAPI on the main port', async () => {
    expect(svc.ops).toBeUndefined()
    for (const path of OPS_PATHS) expect((await get(svc.url, path)).status, path).toBe(200)
  })
})

describe('OPS_PORT with `serve` as a child process', () => {
  const tmp = tempDir()
  let serve: ServeProcess
  beforeAll(async () => {
    await ensureBuilt()
    serve = await startServe(tmp.dir, ['--ops-port', '0'])
  }, 60_000)
  afterAll(async () => {
    await serve?.stop()
    tmp.cleanup()
  })

  it('logs the operations port; /metrics answers there and not on the main port; SIGTERM stops both', async () => {
    const line = JSON.parse(serve.stdout().split('\n').find((l) => l.includes('consumer-auth listening'))!) as { opsPort: number }
    expect(line.opsPort).toBeGreaterThan(0)
    const ops = `http://127.0.0.1:${line.opsPort}`
    expect((await request(ops, '/metrics')).status).toBe(200)
    expect((await request(serve.url, '/metrics')).status).toBe(404)
    expect(await serve.stop()).toBe(0)
    await expect(request(ops, '/health/live', {}, 2_000)).rejects.toThrow()
  })
})
