/**
 * node:http's own answers (a real listening service, raw sockets): a request refused by the HTTP parser or cut off
 * by a time-out is answered with the CRM.COM envelope, its catalogued code, `Connection: close`, and the protocol's
 * status in both HTTP_STATUS modes (docs/decisions.md), then the connection is closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorCode, type ErrorName } from '../../core/index.js'
import { sendRaw, type Outcome } from '../fuzz/raw-client.js'
import { startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'

const refusals: ReadonlyArray<{ name: string; bytes: string; status: number; error: ErrorName; message: RegExp }> = [
  {
    name: 'Content-Length with Transfer-Encoding',
    bytes: `POST ${TOKEN_ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`,
    status: 400, error: 'MALFORMEDREQUEST', message: /not valid HTTP\/1\.1/,
  },
  { name: 'a header name with a space', bytes: `GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n`, status: 400, error: 'MALFORMEDREQUEST', message: /not valid HTTP\/1\.1/ },
  { name: 'a junk request line', bytes: `\u0001\u0002 nonsense\r\n\r\n`, status: 400, error: 'MALFORMEDREQUEST', message: /not valid HTTP\/1\.1/ },
  {
    name: 'a header section over 16 KiB',
    bytes: `POST ${TOKEN_ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`,
    status: 431, error: 'PAYLOADTOOLARGE', message: /header section/,
  },
  {
    name: 'chunk extensions over 16 KiB',
    bytes: `POST ${TOKEN_ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2;${'e'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`,
    status: 413, error: 'PAYLOADTOOLARGE', message: /chunk extensions/,
  },
  { name: 'an HTTP/1.1 request without Host', bytes: `GET /health/live HTTP/1.1\r\nAccept: */*\r\n\r\n`, status: 400, error: 'MALFORMEDREQUEST', message: /Host/ },
  {
    name: 'an Expect other than 100-continue',
    bytes: `POST ${TOKEN_ROUTE} HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: something-else\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`,
    status: 417, error: 'MALFORMEDREQUEST', message: /Expect/,
  },
]

const expectEnvelope = (o: Outcome, status: number, error: ErrorName, message: RegExp) => {
  expect(o.kind, JSON.stringify(o)).toBe('response')
  if (o.kind !== 'response') return
  expect(o.status).toBe(status)
  expect(o.headers.get('content-type')?.[0]).toMatch(/^application\/json/)
  expect(o.headers.get('connection')).toEqual(['close'])
  const body = JSON.parse(o.body.toString('utf8'))
  expect(body).toEqual({ data: null, status: { code: errorCode(error), description: error, message: expect.stringMatching(message) } })
}

describe.each<{ mode: string; flags: Record<string, string> }>([
  { mode: 'standard', flags: {} },
  { mode: 'envelope', flags: { 'http-status': 'envelope' } },
])('node:http refusals, HTTP_STATUS=$mode', ({ flags }) => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService(flags)
  })
  afterAll(async () => svc.stop())

  for (const r of refusals) {
    it(`${r.name}: ${r.status} with the ${r.error} envelope, then the connection closes`, async () => {
      expectEnvelope(await sendRaw(svc.port, Buffer.from(r.bytes, 'latin1')), r.status, r.error, r.message)
    })
  }

  it('answers 200 of them sent at once, each with its envelope', async () => {
    const all = await Promise.all(Array.from({ length: 200 }, (_, i) => refusals[i % refusals.length]!).map(async (r) => ({ r, o: await sendRaw(svc.port, Buffer.from(r.bytes, 'latin1')) })))
    for (const { r, o } of all) expectEnvelope(o, r.status, r.error, r.message)
  })

  it('a head not finished within the headers time-out (10 s): 408 with the MALFORMEDREQUEST envelope', { timeout: 30_000 }, async () => {
    const started = Date.now()
    const o = await sendRaw(svc.port, Buffer.from(`GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `, 'latin1'), { timeoutMs: 20_000 })
    expectEnvelope(o, 408, 'MALFORMEDREQUEST', /not received in time/)
    expect(Date.now() - started).toBeLessThan(12_500)
  })
})
