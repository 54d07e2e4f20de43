/** The Koa app's guards, in process: no exception reaches a client as anything but INTERNALERROR with a logged id. */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpApp } from '../../adapters/http/app.js'
import { R16_2_0 } from '../../core/index.js'
import { postToken } from '../support/service.js'
import { EXAMPLE_AUTHORIZATION, EXAMPLE_BODY } from '../support/example.js'

const servers: Array<{ close(): void }> = []
afterEach(() => servers.splice(0).forEach((s) => s.close()))

const serve = async (issue: Parameters<typeof createHttpApp>[0]['issue']) => {
  const logged: Array<{ obj: any; msg: string }> = []
  const log = { info: () => undefined, warn: () => undefined, error: (obj: object, msg: string) => void logged.push({ obj, msg }) }
  const app = createHttpApp({
    basePath: '/crmapi/rest/v2', release: R16_2_0, httpStatus: 'standard', trustProxy: false, issue,
    verify: () => TE.left({ name: 'INVALIDTOKEN', message: 'no', parameters: [] }), log, ready: async () => true,
  })
  const server = createServer(app.callback())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  servers.push(server)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, logged }
}

describe('the app guard', () => {
  it('turns an escaped exception into INTERNALERROR with a correlation id that is logged', async () => {
    const { url, logged } = await serve(() => {
      throw new Error('boom: a bug')
    })
    const r = await postToken(url, EXAMPLE_BODY, { Authorization: EXAMPLE_AUTHORIZATION })
    expect(r.status).toBe(500)
    expect(r.json.status.code).toBe('COM.CRM.EXCEPTION.GENERAL.INTERNALERROREXCEPTION')
    expect(r.text).not.toContain('boom')
    const id = /correlation id ([0-9a-f-]{36})/.exec(r.json.status.message)?.[1]
    expect(id).toBeDefined()
    expect(logged.some((l) => l.obj.correlationId === id)).toBe(true)
  })

  it('echoes a sane X-Request-Id and generates one otherwise', async () => {
    const { url } = await serve(() => TE.right({ token: 't', mode: 'AuthenticationCode', session: {} as never }))
    const given = await postToken(url, EXAMPLE_BODY, { 'X-Request-Id': 'abc-123' })
    expect(given.headers['x-request-id']).toBe('abc-123')
    const generated = await postToken(url, EXAMPLE_BODY, { 'X-Request-Id': 'bad id\twith tab' })
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('methods no route serves', () => {
  it('answer 404 METHODNOTAVAILABLE on a path no route has, not 405 with an empty Allow', async () => {
    const { url } = await serve(() => TE.right({ token: 't', mode: 'AuthenticationCode', session: {} as never }))
    const { rawRequest } = await import('../support/service.js')
    const r = await rawRequest(url, { method: 'TRACE', path: '/nowhere' })
    expect(r.status).toBe(404)
    expect(r.json.status.code).toBe('COM.CRM.EXCEPTION.GENERAL.METHODNOTAVAILABLEEXCEPTION')
    expect(r.headers['allow']).toBeUndefined()
  })
})
