/**
 * The client address that keyless attempts are counted against (SPEC 4), behind a trusted reverse proxy
 * (--trust-proxy): it is the address the proxy saw, i.e. the last X-Forwarded-For entry (the one the proxy appended),
 * never an entry the client wrote itself. Otherwise a client could send a new made-up X-Forwarded-For with every
 * guess and never be locked out. Without --trust-proxy the header is ignored altogether.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { login, outcome, startSecuredService, withCode, type SecuredService } from './support.js'
import { EXAMPLE_CODE, exampleDocument } from '../support/example.js'

/** What a proxy that appends (nginx's $proxy_add_x_forwarded_for, most load balancers) forwards. */
const viaProxy = (clientWrote: string | undefined, proxySaw: string) => ({
  'X-Forwarded-For': clientWrote === undefined ? proxySaw : `${clientWrote}, ${proxySaw}`,
})

describe('client address behind a trusted proxy', () => {
  let s: SecuredService
  beforeAll(async () => {
    s = await startSecuredService({ flags: { 'trust-proxy': 'true', 'lockout-address': '3' } })
    await s.import(exampleDocument())
  })
  afterAll(async () => s?.stop())

  it('counts the address the proxy saw, whatever the client put in X-Forwarded-For', async () => {
    const attacker = '198.51.100.66'
    for (let i = 0; i < 3; i++) {
      // A different forged entry every time.
      expect(outcome(await login(s.url, withCode(`guess-${i}`), undefined, viaProxy(`10.0.0.${i}`, attacker)))).toBe('INVALIDACCESSTOKEN')
    }
    expect(outcome(await login(s.url, withCode(EXAMPLE_CODE), undefined, viaProxy('10.9.9.9', attacker)))).toBe('TOOMANYATTEMPTS')
    expect(outcome(await login(s.url, withCode(EXAMPLE_CODE), undefined, viaProxy(undefined, attacker)))).toBe('TOOMANYATTEMPTS')
    // Another client behind the same proxy is not affected.
    expect(outcome(await login(s.url, withCode(EXAMPLE_CODE), undefined, viaProxy(undefined, '203.0.113.5')))).toBe('OK')
    const lockouts = (await s.audit()).filter((e) => e.type === 'locked_out')
    expect(lockouts).toMatchObject([{ subject: { kind: 'address', id: attacker } }])
  })
})

describe('client address without a trusted proxy', () => {
  let s: SecuredService
  beforeAll(async () => {
    s = await startSecuredService({ flags: { 'lockout-address': '3' } })
    await s.import(exampleDocument())
  })
  afterAll(async () => s?.stop())

  it('ignores X-Forwarded-For: forged entries do not spread the count', async () => {
    for (let i = 0; i < 3; i++) expect(outcome(await login(s.url, withCode(`guess-${i}`), undefined, viaProxy(undefined, `10.1.0.${i}`)))).toBe('INVALIDACCESSTOKEN')
    expect(outcome(await login(s.url, withCode(EXAMPLE_CODE), undefined, viaProxy(undefined, '10.1.0.99')))).toBe('TOOMANYATTEMPTS')
  })
})
