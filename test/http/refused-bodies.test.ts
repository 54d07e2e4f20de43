/**
 * Bodies of refused requests (a real listening service, raw sockets): after an answer given before the body was read
 * to its end (413, 415, 404, 405, a 401 on the session route, any of them), the answer says `Connection: close` and
 * the server closes the connection once it is flushed, instead of reading whatever the client goes on sending; a
 * slow sender does not stay connected past the request time-out; a request whose body was all received keeps its
 * connection.
 */
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SESSION_ROUTE, startTestService, TOKEN_ROUTE, type TestService } from '../support/service.js'
import { streamBody, whitespaceChunk, type StreamingResult } from './streaming-client.js'

/**
 * What a client may get into the connection before the server closes it: the body limit plus what the kernel buffers
 * of a socket nobody reads. A server that drains moves hundreds of megabytes in the same time.
 */
const SENT_BOUND = 16 * 1024 * 1024
const CLOSE_WITHIN_MS = 3000

const head = (method: string, path: string, headers: Record<string, string>) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`

const json = { 'Content-Type': 'application/json' }
const chunked = { 'Transfer-Encoding': 'chunked' }
const huge = { 'Content-Length': String(5 * 1024 ** 3) }

/** Early answers: how the request is refused, and the status it gets. */
const refusals: ReadonlyArray<{ name: string; head: string; status: number }> = [
  { name: '413, by its declared length', head: head('POST', TOKEN_ROUTE, { ...json, ...huge }), status: 413 },
  { name: '413, chunked, once 16 KiB were read', head: head('POST', TOKEN_ROUTE, { ...json, ...chunked }), status: 413 },
  { name: '415', head: head('POST', TOKEN_ROUTE, { 'Content-Type': 'text/plain', ...huge }), status: 415 },
  { name: '404', head: head('POST', '/crmapi/rest/v2/nowhere', { ...json, ...chunked }), status: 404 },
  { name: '405', head: head('PUT', TOKEN_ROUTE, { ...json, ...chunked }), status: 405 },
  { name: '401 on the session route (a token in the query, so the body is never read)', head: head('GET', `${SESSION_ROUTE}?token=not.a.token`, { ...json, ...chunked }), status: 401 },
]

const pieceFor = (h: string) => (h.includes('chunked') ? whitespaceChunk(64 * 1024) : Buffer.alloc(64 * 1024, 0x20))

const expectClosedAfterAnswer = (r: StreamingResult, status: number) => {
  expect(r.answer.kind).toBe('response')
  if (r.answer.kind !== 'response') return
  expect(r.answer.status).toBe(status)
  expect(r.answer.headers.get('connection')).toEqual(['close'])
  expect(JSON.parse(r.answer.body.toString('utf8')).data).toBeNull()
  expect(r.closedByServer, `still connected after ${r.ms} ms, ${r.bodyBytesSent} body bytes sent`).toBe(true)
  expect(r.ms - (r.answeredAfterMs ?? 0)).toBeLessThan(CLOSE_WITHIN_MS)
  expect(r.bodyBytesSent).toBeLessThan(SENT_BOUND)
}

describe('the body of a refused request', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(async () => svc.stop())

  for (const refusal of refusals) {
    it(`is not drained after a ${refusal.name}: Connection: close, then the socket is closed`, async () => {
      const r = await streamBody({ port: svc.port, head: refusal.head, piece: pieceFor(refusal.head), intervalMs: 0, deadlineMs: 8000 })
      expectClosedAfterAnswer(r, refusal.status)
    })
  }

  it('is not drained for any of 120 clients sending at once', async () => {
    const all = await Promise.all(
      Array.from({ length: 120 }, (_, i) => {
        const refusal = refusals[i % refusals.length]!
        return streamBody({ port: svc.port, head: refusal.head, piece: pieceFor(refusal.head), intervalMs: 5, deadlineMs: 15_000 }).then((r) => ({ r, refusal }))
      }),
    )
    for (const { r, refusal } of all) expectClosedAfterAnswer(r, refusal.status)
  })

  it('of a slow chunked sender ends with the answer, not at the request time-out', async () => {
    const r = await streamBody({ port: svc.port, head: refusals[3]!.head, piece: whitespaceChunk(1), intervalMs: 100, deadlineMs: 8000 })
    expectClosedAfterAnswer(r, 404)
    expect(r.ms).toBeLessThan(CLOSE_WITHIN_MS)
  })

  it('keeps the connection when the body was received whole: a second request on it is answered', async () => {
    const socket = connect(svc.port, '127.0.0.1')
    const text = await new Promise<string>((resolve, reject) => {
      let got = ''
      socket.on('data', (c: Buffer) => {
        got += c.toString('latin1')
        if ((got.match(/HTTP\/1\.1 /g) ?? []).length === 2 && got.endsWith('}')) resolve(got)
      })
      socket.on('error', reject)
      socket.on('close', () => resolve(got))
      socket.write(head('POST', TOKEN_ROUTE, { 'Content-Type': 'text/plain', 'Content-Length': '2' }) + '{}')
      socket.write(head('GET', '/health/live', {}))
    })
    socket.destroy()
    expect(text).toMatch(/^HTTP\/1\.1 415 /)
    expect(text).not.toMatch(/connection: close/i)
    expect(text).toMatch(/HTTP\/1\.1 200 [^]*"live"/)
  })
})

describe('a slow sender whose body is being read', () => {
  let svc: TestService
  beforeAll(async () => {
    svc = await startTestService()
  })
  afterAll(async () => svc.stop())

  it('is cut off with a 408 within a second or two of the request time-out (15 s), not whenever the next sweep runs', { timeout: 40_000 }, async () => {
    const r = await streamBody({ port: svc.port, head: head('POST', TOKEN_ROUTE, { ...json, ...chunked }), piece: whitespaceChunk(1), intervalMs: 250, deadlineMs: 35_000 })
    expect(r.closedByServer).toBe(true)
    expect(r.answer.kind === 'response' ? r.answer.status : r.answer).toBe(408)
    expect(r.ms).toBeGreaterThanOrEqual(14_500)
    expect(r.ms).toBeLessThan(17_500)
    expect(r.bodyBytesSent).toBeLessThan(1000)
  })
})
