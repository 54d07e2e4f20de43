/**
 * The logger's own guarantees (composition/logger.ts), below the request-level tests of logs.test.ts: fields named
 * like secrets are censored wherever a log call puts them (nested objects, arrays, class instances, child bindings),
 * nothing else is touched, the logged object is never changed, and the timestamp is pino's isoTime byte for byte.
 */
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createLogger, isoTimeAt, redactFields, REDACTED_FIELDS } from '../../composition/logger.js'

const sink = () => {
  const lines: string[] = []
  return { lines, write: (s: string) => void lines.push(s), json: () => lines.map((l) => JSON.parse(l)) }
}

describe('field redaction', () => {
  it('censors every redacted name at the top, in nested objects and arrays, and in class instances', () => {
    const s = sink()
    const log = createLogger('info', s)
    class Request {
      headers = { authorization: 'Basic S3CR3T-1', accept: 'json' }
      query = 'token=S3CR3T-2'
    }
    log.info(
      {
        key: 'S3CR3T-3',
        nested: { deeper: { jwt: 'S3CR3T-4', keep: 'visible-1' }, list: [{ pass_code: 'S3CR3T-5' }, 'visible-2'] },
        req: new Request(),
        ok: { status: 200, path: '/x' },
      },
      'm',
    )
    const text = s.lines.join('')
    expect(text).not.toContain('S3CR3T')
    const line = s.json()[0]
    expect(line).toMatchObject({
      key: '[redacted]',
      nested: { deeper: { jwt: '[redacted]', keep: 'visible-1' }, list: [{ pass_code: '[redacted]' }, 'visible-2'] },
      req: { headers: { authorization: '[redacted]', accept: 'json' }, query: '[redacted]' },
      ok: { status: 200, path: '/x' },
    })
  })

  it('censors child bindings too', () => {
    const s = sink()
    const child = createLogger('info', s).child({ token: 'S3CR3T-6', who: 'me' })
    child.info({}, 'm')
    child.child({ nested: { pepper: 'S3CR3T-8' } }).info({}, 'm')
    expect(s.lines.join('')).not.toContain('S3CR3T')
    expect(s.json()[0]).toMatchObject({ token: '[redacted]', who: 'me' })
    expect(s.json()[1]).toMatchObject({ token: '[redacted]', who: 'me', nested: { pepper: '[redacted]' } })
  })

  it('leaves objects without secrets as they are (no copy) and never changes the logged object', () => {
    const clean = { reqId: 'r', method: 'POST', path: '/p', status: 200, ms: 1.5 }
    expect(redactFields(clean)).toBe(clean)
    const dirty = { a: 1, inner: { secret: 'x', b: 2 } }
    const out = redactFields(dirty)
    expect(out).toEqual({ a: 1, inner: { secret: '[redacted]', b: 2 } })
    expect(dirty.inner.secret).toBe('x')
  })

  it('leaves errors to their serializer and values that serialise themselves alone', () => {
    const s = sink()
    const err = Object.assign(new Error('boom'), { config: { key: 'S3CR3T-7' } })
    const when = new Date(0)
    createLogger('info', s).info({ err, when }, 'm')
    expect(s.lines.join('')).not.toContain('S3CR3T')
    expect(s.json()[0]).toMatchObject({ err: { type: 'Error', message: 'boom' }, when: when.toISOString() })
  })

  it('knows the names of every secret the service handles', () => {
    for (const name of ['authorization', 'token', 'jwt', 'pass_code', 'authentication_code', 'access_token_identifier', 'key', 'secret', 'pepper', 'privateJwk', 'body', 'query']) {
      expect(REDACTED_FIELDS.has(name), name).toBe(true)
    }
  })
})

describe('the timestamp', () => {
  it("is pino's isoTime, byte for byte", () => {
    for (const now of [0, 1, 12, 123, 999, 1000, 1_700_000_000_000, 1_700_000_000_007, 1_700_000_000_070, 1_700_000_000_999, 1_700_000_001_000, 4_102_444_799_999]) {
      expect(isoTimeAt(now), String(now)).toBe(`,"time":"${new Date(now).toISOString()}"`)
    }
    const now = Date.now()
    expect(isoTimeAt(now)).toBe(`,"time":"${new Date(now).toISOString()}"`)
    expect(typeof pino.stdTimeFunctions.isoTime()).toBe('string')
  })
})
