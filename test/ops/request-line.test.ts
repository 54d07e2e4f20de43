/**
 * The request line written as pre-serialized fields (the service logger's infoFields, composition/logger.ts; used by
 * adapters/http/request-log.ts) is byte for byte the line pino writes for the same object through `info`: for the
 * root logger and a child, with every optional field, a long path and one that needs escaping; and nothing below
 * the logger's level. A multistream destination (which wants each line's metadata) gets the ordinary call.
 */
import type { Context } from 'koa'
import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { logRequest } from '../../adapters/http/request-log.js'
import { authError } from '../../core/index.js'
import { createLogger } from '../../composition/logger.js'

const sink = () => {
  const lines: string[] = []
  return { lines, write: (s: string) => void lines.push(s) }
}

const ctxOf = (path: string, status: number, failure?: ReturnType<typeof authError>): Context =>
  ({ path, method: 'POST', status, state: failure ? { failure } : {} }) as unknown as Context

/** The line of logRequest through infoFields, and through the ordinary `info` of the same logger. */
const bothWays = (ctx: Context, make: (s: ReturnType<typeof sink>) => ReturnType<typeof createLogger> = (s) => createLogger('info', s)) => {
  const fast = sink()
  const plain = sink()
  const withFields = make(fast)
  const without = make(plain)
  logRequest(withFields, ctx, 'req-1', 0.123456)
  logRequest({ info: without.info.bind(without), warn: without.warn.bind(without) }, ctx, 'req-1', 0.123456)
  return { fast: fast.lines, plain: plain.lines }
}

describe('the request line as pre-serialized fields', () => {
  afterEach(() => vi.restoreAllMocks())

  it('is the line pino writes for the same object', () => {
    vi.spyOn(Date, 'now').mockReturnValue(Date.UTC(2026, 0, 2, 3, 4, 5, 67))
    const cases = [
      ctxOf('/crmapi/rest/v2/authentication/consumer_application_key/token', 200),
      ctxOf('/crmapi/rest/v2/authentication/consumer_application_key/token', 401, authError('INVALIDAPPLICATIONKEY', 'no')),
      ctxOf(`/${'x'.repeat(600)}`, 404),
      ctxOf('/a"b\\c\u0001d\u00e9', 400, authError('MALFORMEDREQUEST', 'no')),
    ]
    for (const ctx of cases) {
      const { fast, plain } = bothWays(ctx)
      expect(fast).toHaveLength(1)
      expect(fast).toEqual(plain)
    }
    // A child: its own (censored) bindings, as pino writes them.
    const { fast, plain } = bothWays(cases[1]!, (s) => createLogger('info', s).child({ part: 'web', token: 'S3CR3T' }) as ReturnType<typeof createLogger>)
    expect(fast).toEqual(plain)
    expect(fast[0]).toContain('"part":"web"')
    expect(fast[0]).not.toContain('S3CR3T')
  })

  it('writes nothing below the level, and leaves a multistream to pino', () => {
    const quiet = sink()
    logRequest(createLogger('warn', quiet), ctxOf('/p', 200), 'req-1', 1)
    expect(quiet.lines).toEqual([])
    const a = sink()
    const b = sink()
    const multi = createLogger('info', pino.multistream([{ stream: a }, { stream: b, level: 'info' }]))
    logRequest(multi, ctxOf('/p', 401, authError('INVALIDAPPLICATIONKEY', 'no')), 'req-2', 2)
    expect(a.lines).toHaveLength(1)
    expect(JSON.parse(a.lines[0]!)).toMatchObject({ level: 30, reqId: 'req-2', path: '/p', status: 401, ms: 2, error: 'INVALIDAPPLICATIONKEY', msg: 'request' })
    expect(b.lines).toEqual(a.lines)
  })
})
